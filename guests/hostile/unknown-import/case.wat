;; Imports a function the ABI does not define and a real one with the
;; wrong signature: refused at load, naming both.
(module
  (import "xf" "does_not_exist" (func (result i32)))
  (import "xf" "log" (func (param i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "xf_abi_version_1_0")))
