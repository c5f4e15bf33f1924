;; Raw WASI calls that try to leave the guest's two trees: "..", absolute
;; paths, symbolic and hard links, renames. Go's os package would clean
;; these paths before the host saw them, so the guest is written against
;; WASI directly. It logs "wasi <what>: errno <n>" for each attempt (0 is
;; success) and finishes; the expected errnos are in case.json. The
;; preopened directories are fd 3 (/inputs) and fd 4 (/scratch), in the
;; order the host mounts them, which the first two lines confirm.
(module
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name"
    (func $prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link"
    (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename"
    (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "xf" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "xf" "finish" (func $finish (result i32)))
  (memory (export "memory") 1)

  ;; NUL-terminated strings.
  (data (i32.const 1000) "../etc/passwd\00")
  (data (i32.const 1020) "../../../../../../../etc/passwd\00")
  (data (i32.const 1060) "../../etc/passwd\00")
  (data (i32.const 1080) "sub\00")
  (data (i32.const 1090) "sub/../../etc/passwd\00")
  (data (i32.const 1120) "/etc/passwd\00")
  (data (i32.const 1140) "../planted\00")
  (data (i32.const 1160) "ok\00")
  (data (i32.const 1170) "link\00")
  (data (i32.const 1180) "../../etc\00")
  (data (i32.const 1190) "up\00")
  (data (i32.const 1200) "hard\00")
  (data (i32.const 1210) "../moved\00")
  (data (i32.const 1230) "up/passwd\00")

  (data (i32.const 2000) "fd 3 is /inputs\00")
  (data (i32.const 2020) "fd 4 is /scratch\00")
  (data (i32.const 2040) "open scratch/../etc/passwd\00")
  (data (i32.const 2070) "open scratch/../../../../../../../etc/passwd\00")
  (data (i32.const 2120) "open inputs/../../etc/passwd\00")
  (data (i32.const 2150) "mkdir scratch/sub\00")
  (data (i32.const 2170) "open scratch/sub/../../etc/passwd\00")
  (data (i32.const 2210) "open scratch fd /etc/passwd\00")
  (data (i32.const 2240) "create scratch/../planted\00")
  (data (i32.const 2270) "create scratch/ok\00")
  (data (i32.const 2290) "symlink scratch/link -> /etc/passwd\00")
  (data (i32.const 2330) "symlink scratch/up -> ../../etc\00")
  (data (i32.const 2370) "open scratch/up/passwd\00")
  (data (i32.const 2400) "link scratch/hard -> scratch/ok\00")
  (data (i32.const 2440) "rename scratch/ok -> scratch/../moved\00")
  (data (i32.const 2480) "open scratch/link\00")
  (data (i32.const 2500) "mkdir scratch/../planted\00")

  (data (i32.const 3000) "wasi ")

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; itoa writes v in decimal at dst and returns the number of digits.
  (func $itoa (param $v i32) (param $dst i32) (result i32)
    (local $n i32) (local $t i32) (local $i i32)
    (local.set $t (local.get $v))
    (loop $count
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $i (local.get $n))
    (loop $digits
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $dst) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $i)))
    (local.get $n))

  ;; report logs "wasi <label>: errno <errno>".
  (func $report (param $label i32) (param $errno i32)
    (local $out i32)
    (local.set $out (i32.add (i32.const 3005) (call $strlen (local.get $label))))
    (memory.copy (i32.const 3005) (local.get $label) (call $strlen (local.get $label)))
    ;; ": errno "
    (i64.store (local.get $out) (i64.const 0x206f6e727265203a))
    (local.set $out (i32.add (local.get $out) (i32.const 8)))
    (local.set $out (i32.add (local.get $out) (call $itoa (local.get $errno) (local.get $out))))
    (drop (call $log (i32.const 1) (i32.const 3000) (i32.sub (local.get $out) (i32.const 3000)))))

  ;; open opens path (NUL-terminated) under dirfd with oflags, closing
  ;; nothing: the job's end closes every descriptor.
  (func $open (param $dirfd i32) (param $path i32) (param $oflags i32) (result i32)
    (call $path_open (local.get $dirfd) (i32.const 0)
      (local.get $path) (call $strlen (local.get $path))
      (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0)
      (i32.const 4000)))

  ;; isdir reports whether fd's preopen name is the NUL-terminated name.
  (func $prestat_is (param $fd i32) (param $name i32) (result i32)
    (local $n i32)
    (local.set $n (call $strlen (local.get $name)))
    (if (call $prestat_dir_name (local.get $fd) (i32.const 4100) (local.get $n))
      (then (return (i32.const 0))))
    (i32.eqz (call $memcmp (i32.const 4100) (local.get $name) (local.get $n))))

  (func $memcmp (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
          (then (return (i32.const 1))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (data (i32.const 4200) "/inputs\00")
  (data (i32.const 4210) "/scratch\00")

  (func (export "_start")
    (call $report (i32.const 2000) (i32.eqz (call $prestat_is (i32.const 3) (i32.const 4200))))
    (call $report (i32.const 2020) (i32.eqz (call $prestat_is (i32.const 4) (i32.const 4210))))
    (call $report (i32.const 2040) (call $open (i32.const 4) (i32.const 1000) (i32.const 0)))
    (call $report (i32.const 2070) (call $open (i32.const 4) (i32.const 1020) (i32.const 0)))
    (call $report (i32.const 2120) (call $open (i32.const 3) (i32.const 1060) (i32.const 0)))
    (call $report (i32.const 2150) (call $path_create_directory (i32.const 4) (i32.const 1080) (i32.const 3)))
    (call $report (i32.const 2170) (call $open (i32.const 4) (i32.const 1090) (i32.const 0)))
    (call $report (i32.const 2210) (call $open (i32.const 4) (i32.const 1120) (i32.const 0)))
    (call $report (i32.const 2240) (call $open (i32.const 4) (i32.const 1140) (i32.const 1)))
    (call $report (i32.const 2500) (call $path_create_directory (i32.const 4) (i32.const 1140) (i32.const 10)))
    (call $report (i32.const 2270) (call $open (i32.const 4) (i32.const 1160) (i32.const 1)))
    (call $report (i32.const 2290) (call $path_symlink (i32.const 1120) (i32.const 11) (i32.const 4) (i32.const 1170) (i32.const 4)))
    (call $report (i32.const 2330) (call $path_symlink (i32.const 1180) (i32.const 9) (i32.const 4) (i32.const 1190) (i32.const 2)))
    (call $report (i32.const 2370) (call $open (i32.const 4) (i32.const 1230) (i32.const 0)))
    (call $report (i32.const 2480) (call $open (i32.const 4) (i32.const 1170) (i32.const 0)))
    (call $report (i32.const 2400) (call $path_link (i32.const 4) (i32.const 0) (i32.const 1160) (i32.const 2) (i32.const 4) (i32.const 1200) (i32.const 4)))
    (call $report (i32.const 2440) (call $path_rename (i32.const 4) (i32.const 1160) (i32.const 2) (i32.const 4) (i32.const 1210) (i32.const 8)))
    (drop (call $finish)))
  (func (export "xf_abi_version_1_0")))
