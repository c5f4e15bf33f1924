package omni

import (
	"encoding/binary"
	"fmt"
)

// DataType is the numeric type of one pixel value. The zero value is invalid
// so that a header whose data type was never set fails validation instead of
// silently meaning uint8.
type DataType uint8

// Pixel data types. All are stored in the byte order given by the header.
const (
	Uint8 DataType = iota + 1
	Int8
	Uint16
	Int16
	Uint32
	Int32
	Float32
	Float64
)

var dataTypeNames = [...]string{
	Uint8:   "uint8",
	Int8:    "int8",
	Uint16:  "uint16",
	Int16:   "int16",
	Uint32:  "uint32",
	Int32:   "int32",
	Float32: "float32",
	Float64: "float64",
}

var dataTypeSizes = [...]int{
	Uint8:   1,
	Int8:    1,
	Uint16:  2,
	Int16:   2,
	Uint32:  4,
	Int32:   4,
	Float32: 4,
	Float64: 8,
}

// DataTypes returns every valid data type, smallest first.
func DataTypes() []DataType {
	return []DataType{Uint8, Int8, Uint16, Int16, Uint32, Int32, Float32, Float64}
}

// ParseDataType returns the data type with the given name ("uint8", "int8",
// "uint16", "int16", "uint32", "int32", "float32" or "float64").
// Names are case-sensitive, as they are in the header.
func ParseDataType(s string) (DataType, error) {
	for _, t := range DataTypes() {
		if dataTypeNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("omni: unknown data type %q (want uint8, int8, uint16, int16, uint32, int32, float32 or float64)", s)
}

// Valid reports whether t is one of the defined data types.
func (t DataType) Valid() bool {
	return t >= Uint8 && t <= Float64
}

// String returns the header name of t, or "DataType(n)" for invalid values.
func (t DataType) String() string {
	if !t.Valid() {
		return fmt.Sprintf("DataType(%d)", uint8(t))
	}
	return dataTypeNames[t]
}

// Size returns the number of bytes of one pixel, or 0 for invalid values.
func (t DataType) Size() int {
	if !t.Valid() {
		return 0
	}
	return dataTypeSizes[t]
}

// IsFloat reports whether t is a floating-point type.
func (t DataType) IsFloat() bool {
	return t == Float32 || t == Float64
}

// ByteOrder is the byte order of multi-byte pixel values in a pixel file.
type ByteOrder string

// Byte orders as written in the header.
const (
	LittleEndian ByteOrder = "little"
	BigEndian    ByteOrder = "big"
)

// Valid reports whether o is LittleEndian or BigEndian.
func (o ByteOrder) Valid() bool {
	return o == LittleEndian || o == BigEndian
}

// Binary returns the encoding/binary order matching o, or nil if o is invalid.
func (o ByteOrder) Binary() binary.ByteOrder {
	switch o {
	case LittleEndian:
		return binary.LittleEndian
	case BigEndian:
		return binary.BigEndian
	}
	return nil
}

// NativeByteOrder returns the byte order of the machine the program runs on,
// which is the order of Image.Pixels.
func NativeByteOrder() ByteOrder {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return LittleEndian
	}
	return BigEndian
}

// swapBytes reverses the byte order of every size-byte value in buf in place.
// len(buf) must be a multiple of size.
func swapBytes(buf []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+1 < len(buf); i += 2 {
			buf[i], buf[i+1] = buf[i+1], buf[i]
		}
	case 4:
		for i := 0; i+3 < len(buf); i += 4 {
			binary.LittleEndian.PutUint32(buf[i:], binary.BigEndian.Uint32(buf[i:]))
		}
	case 8:
		for i := 0; i+7 < len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], binary.BigEndian.Uint64(buf[i:]))
		}
	}
}
