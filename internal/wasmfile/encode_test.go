package wasmfile

// A deliberately independent, minimal encoder for building test modules by
// hand. It does not reuse the package's own LEB128 writer so that a bug
// there cannot hide a matching bug in the reader.

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

func section(id SectionID, contents ...[]byte) []byte {
	c := cat(contents...)
	return cat([]byte{byte(id)}, leb(uint64(len(c))), c)
}

func custom(name string, data []byte) []byte {
	return section(SectionCustom, str(name), data)
}

func module(sections ...[]byte) []byte {
	return cat([]byte{0, 'a', 's', 'm', 1, 0, 0, 0}, cat(sections...))
}

func functype(params, results []ValType) []byte {
	enc := func(ts []ValType) []byte {
		items := make([][]byte, len(ts))
		for i, t := range ts {
			items[i] = []byte{byte(t)}
		}
		return vec(items...)
	}
	return cat([]byte{0x60}, enc(params), enc(results))
}

func importEntry(mod, name string, kind ExternKind, desc ...byte) []byte {
	return cat(str(mod), str(name), []byte{byte(kind)}, desc)
}

func exportEntry(name string, kind ExternKind, idx uint32) []byte {
	return cat(str(name), []byte{byte(kind)}, leb(uint64(idx)))
}

// emptyBody is a function body with no locals: just "end".
var emptyBody = cat(leb(2), []byte{0x00, 0x0b})

// markerModule is the smallest interesting module: one () -> () function
// exported under name.
func markerModule(name string) []byte {
	return module(
		section(SectionType, vec(functype(nil, nil))),
		section(SectionFunction, vec(leb(0))),
		section(SectionExport, vec(exportEntry(name, ExternFunc, 0))),
		section(SectionCode, vec(emptyBody)),
	)
}
