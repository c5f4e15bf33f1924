;; Sets the Float output "value" to a string, ignores the TYPE_MISMATCH
;; and calls finish, which then fails the job for the missing output.
(module
  (import "xf" "output_set" (func $output_set (param i32 i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "value")
  (data (i32.const 32) "\"text\"")
  (func (export "_start")
    (drop (call $output_set (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 6)))
    (drop (call $finish)))
  (func (export "xf_abi_version_1_0")))
