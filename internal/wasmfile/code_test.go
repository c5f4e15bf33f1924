package wasmfile

import (
	"strings"
	"testing"
)

func TestMeasureCode(t *testing.T) {
	// Locals: 2 i32 + 3 i64. Code: block(loop(if(br_table 3 targets)))).
	body := cat([]byte{2, 2, byte(I32), 3, byte(I64)},
		[]byte{0x02, 0x40, 0x03, 0x40, 0x41, 0x01, 0x04, 0x40, 0x41, 0x00, 0x0e, 0x02, 0x00, 0x01, 0x02, 0x0b, 0x0b, 0x0b, 0x0b})
	in := module(
		section(SectionType, vec(functype(nil, nil))),
		section(SectionFunction, vec([]byte{0}, []byte{0})),
		section(SectionCode, vec(cat(leb(uint64(len(body))), body), funcBody(0x0b))),
	)
	m := mustParse(t, in)
	got, err := MeasureCode(m, in)
	if err != nil {
		t.Fatal(err)
	}
	want := CodeShape{MaxNesting: 3, MaxBrTableTargets: 2, MaxLocals: 5, MaxBodyBytes: uint32(len(body))}
	if got != want {
		t.Errorf("MeasureCode = %+v, want %+v", got, want)
	}

	bad := oneFunc([]byte{0x06, 0x0b})
	if _, err := MeasureCode(mustParse(t, bad), bad); err == nil || !strings.Contains(err.Error(), "unknown opcode 0x06") {
		t.Errorf("unknown opcode: err = %v", err)
	}
}
