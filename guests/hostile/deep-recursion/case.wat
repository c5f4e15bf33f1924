;; Unbounded recursion: the engine's call stack runs out and the guest
;; traps, instead of the host's stack overflowing.
(module
  (memory (export "memory") 1)
  (func $down (param $depth i64) (result i64)
    (i64.add
      (call $down (i64.add (local.get $depth) (i64.const 1)))
      (i64.const 1)))
  (func (export "_start")
    (drop (call $down (i64.const 0))))
  (func (export "xf_abi_version_1_0")))
