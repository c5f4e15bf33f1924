;; Calls xf.finish twice: the second call must return INVALID_STATE and
;; leave the job done.
(module
  (import "xf" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "finish\00")
  (data (i32.const 120) "finish-again\00")
  (func (export "_start")
    (call $report (i32.const 100) (call $finish))
    (call $report (i32.const 120) (call $finish)))
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
