;; Imports its memory from "env", a module the host does not provide.
(module
  (import "env" "memory" (memory 1))
  (import "xf" "output_set" (func $output_set (param i32 i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (export "memory" (memory 0))
  (data (i32.const 16) "value")
  (data (i32.const 32) "1.5")
  (func (export "_start")
    (drop (call $output_set (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 3)))
    (drop (call $finish)))
  (func (export "xf_abi_version_1_0")))
