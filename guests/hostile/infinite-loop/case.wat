;; A guest that spins forever without calling the host: only the job's
;; deadline can stop it.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever
      (br $forever)))
  (func (export "xf_abi_version_1_0")))
