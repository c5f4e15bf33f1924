;; Calls xf.fail with a message pointer outside its memory: the job fails
;; with the host's own message instead of reading out of bounds.
(module
  (import "xf" "fail" (func $fail (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $fail (i32.const 0xfffffff0) (i32.const 100))))
  (func (export "xf_abi_version_1_0")))
