;; Imports clip.gaussian, which the case's policy (capabilities ["images"])
;; does not grant: refused at load, naming the import and its capability.
(module
  (import "clip" "gaussian" (func (param i32 f64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "xf_abi_version_1_1")))
