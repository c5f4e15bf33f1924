;; Never ends: reports progress forever and is stopped by the deadline.
;; It calls the host in its loop, so that it stops at a host call on any
;; engine: this case tests how the checker judges a job that runs out of
;; time; interrupting pure guest code is the host conformance suite's and
;; the hostile corpus's business.
(module
  (import "xf" "progress_set" (func $progress_set (param f64) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever
      (drop (call $progress_set (f64.const 50)))
      (br $forever)))
  (func (export "xf_abi_version_1_0")))
