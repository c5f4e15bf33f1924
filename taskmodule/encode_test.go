package taskmodule

// A minimal WebAssembly encoder for hand-built test modules.

func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func str(s string) []byte { return cat(leb(uint64(len(s))), []byte(s)) }

func vec(items ...[]byte) []byte { return cat(leb(uint64(len(items))), cat(items...)) }

func section(id byte, contents ...[]byte) []byte {
	c := cat(contents...)
	return cat([]byte{id}, leb(uint64(len(c))), c)
}

func custom(name string, data []byte) []byte { return section(0, str(name), data) }

func wasmModule(sections ...[]byte) []byte {
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0}, cat(sections...))
}

const (
	kindFunc   = 0x00
	kindMemory = 0x02
)

type export struct {
	name string
	kind byte
	idx  uint32
}

// guestModule builds a module with two functions, 0: () -> () and
// 1: (i32) -> (), one memory, the given exports and extra custom sections.
func guestModule(exports []export, customs ...[]byte) []byte {
	var exps [][]byte
	for _, e := range exports {
		exps = append(exps, cat(str(e.name), []byte{e.kind}, leb(uint64(e.idx))))
	}
	body := cat(leb(2), []byte{0x00, 0x0b})
	return wasmModule(
		section(1, vec([]byte{0x60, 0, 0}, []byte{0x60, 1, 0x7f, 0})),
		section(3, vec(leb(0), leb(1))),
		section(5, vec([]byte{0x00, 0x01})),
		section(7, vec(exps...)),
		section(10, vec(body, body)),
		cat(customs...),
	)
}

// markerModule is a module exporting just the marker function for v1.0.
func markerModule() []byte {
	return guestModule([]export{{"xf_abi_version_1_0", kindFunc, 0}, {"memory", kindMemory, 0}})
}
