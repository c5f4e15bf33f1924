;; Grows linear memory one page at a time until memory.grow refuses, then
;; fails the job saying at how many pages that happened. The policy's
;; memory_mib must be what refuses, long before the Wasm maximum.
(module
  (import "xf" "fail" (func $fail (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "memory.grow refused at ")
  (data (i32.const 64) " pages")

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

  (func (export "_start")
    (local $len i32)
    (block $refused
      (loop $grow
        (br_if $refused (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        ;; Touch the new page so it is really backed.
        (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 1))
        (br $grow)))
    (local.set $len (call $itoa (memory.size) (i32.const 23)))
    (memory.copy (i32.add (i32.const 23) (local.get $len)) (i32.const 64) (i32.const 6))
    (drop (call $fail (i32.const 0) (i32.add (i32.const 29) (local.get $len)))))
  (func (export "xf_abi_version_1_0")))
