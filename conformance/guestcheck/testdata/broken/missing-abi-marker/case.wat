;; A working guest that does not declare its ABI version.
(module
  (import "xf" "output_set" (func $output_set (param i32 i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "value")
  (data (i32.const 32) "1.5")
  (func (export "_start")
    (drop (call $output_set (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 3)))
    (drop (call $finish))))
