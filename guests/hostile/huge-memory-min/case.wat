;; Declares the largest memory Wasm allows (4 GiB) as its minimum: the
;; policy's shape check must refuse it before anything is compiled or
;; allocated.
(module
  (memory (export "memory") 65536)
  (func (export "_start"))
  (func (export "xf_abi_version_1_0")))
