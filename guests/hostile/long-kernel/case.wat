;; Creates a 256^3 float32 image and asks for a Gaussian filter with a
;; large sigma, seconds of work on all cores, under a 300 ms deadline: the
;; deadline must interrupt the kernel itself, not wait for it to return.
(module
  (import "xf" "image_create" (func $image_create (param i32 i32 i32) (result i32)))
  (import "clip" "gaussian" (func $gaussian (param i32 f64 i32) (result i32)))
  (import "xf" "fail" (func $fail (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "{\"size\":[256,256,256],\"data_type\":\"float32\"}") ;; 44 bytes
  (data (i32.const 200) "image_create failed")  ;; 19 bytes
  (data (i32.const 220) "the kernel returned")  ;; 19 bytes
  (func (export "_start")
    (if (call $image_create (i32.const 100) (i32.const 44) (i32.const 0))
      (then (drop (call $fail (i32.const 200) (i32.const 19)))))
    (drop (call $gaussian (i32.load (i32.const 0)) (f64.const 20) (i32.const 4)))
    (drop (call $fail (i32.const 220) (i32.const 19))))
  (func (export "xf_abi_version_1_1")))
