;; The call tree of call-tree as one recursive function: tree(n) calls
;; tree(n-1) twice, from n = 34, so 2^34 calls at a stack depth of only
;; 35. No loop runs, so, as with call-tree, nothing passes wazero's
;; deadline checks; and a static check of the call graph could not tell
;; this from ordinary recursion.
(module
  (memory (export "memory") 1)
  (func $tree (param $n i32)
    (if (local.get $n)
      (then
        (call $tree (i32.sub (local.get $n) (i32.const 1)))
        (call $tree (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "_start")
    (call $tree (i32.const 34)))
  (func (export "xf_abi_version_1_0")))
