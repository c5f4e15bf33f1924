;; Imports a function from a module the host does not provide at all
;; ("env", as C toolchains emit). The ABI check only covers xf and clip, so
;; this must be caught when the engine links the module, and the job must
;; fail naming the missing import.
(module
  (import "env" "system" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start"))
  (func (export "xf_abi_version_1_0")))
