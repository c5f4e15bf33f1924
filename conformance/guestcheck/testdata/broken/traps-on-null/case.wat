;; Crashes on a null input although its interface allows mode none.
(module
  (import "xf" "inputs_get" (func $inputs_get (param i32 i32 i32) (result i32)))
  (import "xf" "output_set" (func $output_set (param i32 i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "value")
  (data (i32.const 32) "1.5")
  (func (export "_start")
    (drop (call $inputs_get (i32.const 1024) (i32.const 1024) (i32.const 8)))
    ;; The host writes {"x":VALUE}; byte 5 starts the value.
    (if (i32.eq (i32.load8_u (i32.const 1029)) (i32.const 0x6e)) ;; 'n' of null
      (then unreachable))
    (drop (call $output_set (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 3)))
    (drop (call $finish)))
  (func (export "xf_abi_version_1_0")))
