;; After a successful finish, every call that changes the job must return
;; INVALID_STATE and change nothing: the output keeps its value 1, and a
;; late fail does not turn the job into a failure.
(module
  (import "xf" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (import "xf" "fail" (func $fail (param i32 i32) (result i32)))
  (import "xf" "output_set" (func $output_set (param i32 i32 i32 i32) (result i32)))
  (import "xf" "output_units_set" (func $output_units_set (param i32 i32) (result i32)))
  (import "xf" "image_create" (func $image_create (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "output-set\00")
  (data (i32.const 120) "finish\00")
  (data (i32.const 140) "output-set-after-finish\00")
  (data (i32.const 180) "output-units-after-finish\00")
  (data (i32.const 220) "image-create-after-finish\00")
  (data (i32.const 260) "fail-after-finish\00")
  (data (i32.const 300) "value")           ;; 5 bytes
  (data (i32.const 310) "1")               ;; 1 byte
  (data (i32.const 320) "2")               ;; 1 byte
  (data (i32.const 330) "{\"value\":\"mm\"}") ;; 14 bytes
  (data (i32.const 360) "{\"size\":[4,4,4],\"data_type\":\"uint8\"}") ;; 36 bytes
  (data (i32.const 400) "too late")        ;; 8 bytes
  (func (export "_start")
    (call $report (i32.const 100) (call $output_set (i32.const 300) (i32.const 5) (i32.const 310) (i32.const 1)))
    (call $report (i32.const 120) (call $finish))
    (call $report (i32.const 140) (call $output_set (i32.const 300) (i32.const 5) (i32.const 320) (i32.const 1)))
    (call $report (i32.const 180) (call $output_units_set (i32.const 330) (i32.const 14)))
    (call $report (i32.const 220) (call $image_create (i32.const 360) (i32.const 36) (i32.const 500)))
    (call $report (i32.const 260) (call $fail (i32.const 400) (i32.const 8))))
  (func (export "xf_abi_version_1_0"))
;; --- reporting: "status <label>: <NAME>" lines in the job log ---------
  ;; Status names, 24 bytes apart and NUL-padded, by status code; the last
  ;; one stands for any code this guest does not know.
  (data (i32.const 60000) "OK")
  (data (i32.const 60024) "NOT_FOUND")
  (data (i32.const 60048) "BAD_ARGUMENT")
  (data (i32.const 60072) "INVALID_MEMORY_ACCESS")
  (data (i32.const 60096) "BUFFER_TOO_SMALL")
  (data (i32.const 60120) "INVALID_HANDLE")
  (data (i32.const 60144) "TYPE_MISMATCH")
  (data (i32.const 60168) "LIMIT_EXCEEDED")
  (data (i32.const 60192) "DENIED")
  (data (i32.const 60216) "INVALID_STATE")
  (data (i32.const 60240) "INVALID_JSON")
  (data (i32.const 60264) "IO_ERROR")
  (data (i32.const 60288) "INTERNAL")
  (data (i32.const 60312) "UNKNOWN_STATUS")
  (data (i32.const 61000) "status ")

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; report logs "status <label>: <NAME of st>"; label is NUL-terminated.
  (func $report (param $label i32) (param $st i32)
    (local $len i32) (local $name i32) (local $nlen i32) (local $out i32)
    (if (i32.gt_u (local.get $st) (i32.const 12))
      (then (local.set $st (i32.const 13))))
    (local.set $len (call $strlen (local.get $label)))
    (local.set $name (i32.add (i32.const 60000) (i32.mul (local.get $st) (i32.const 24))))
    (local.set $nlen (call $strlen (local.get $name)))
    (memory.copy (i32.const 61007) (local.get $label) (local.get $len))
    (local.set $out (i32.add (i32.const 61007) (local.get $len)))
    (i32.store16 (local.get $out) (i32.const 0x203a)) ;; ": "
    (memory.copy (i32.add (local.get $out) (i32.const 2)) (local.get $name) (local.get $nlen))
    (drop (call $log (i32.const 1) (i32.const 61000)
      (i32.sub (i32.add (local.get $out) (i32.add (i32.const 2) (local.get $nlen))) (i32.const 61000)))))
)
