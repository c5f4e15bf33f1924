;; Declares a table of 100 million elements as its minimum; wazero would
;; allocate it at instantiation. The policy's shape check must refuse it.
(module
  (memory (export "memory") 1)
  (table 100000000 funcref)
  (func (export "_start"))
  (func (export "xf_abi_version_1_0")))
