package sql

import "testing"

func TestFuncHash(t *testing.T) {
	s, b := fntStr, fntBytes
	fnRun(t, []fnCase{
		{"MD5", []fnArg{s("")}, "'d41d8cd98f00b204e9800998ecf8427e'"},
		{"MD5", []fnArg{b("abc")}, "'900150983cd24fb0d6963f7d28e17f72'"},
		{"MD5", []fnArg{fntNull(Varchar)}, "NULL"},
		{"SHA1", []fnArg{s("")}, "'da39a3ee5e6b4b0d3255bfef95601890afd80709'"},
		{"SHA256", []fnArg{s("")}, "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'"},
		{"SHA512", []fnArg{b("")}, "'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'"},
		{"CRC32", []fnArg{s("")}, "0"},
		{"CRC32", []fnArg{s("The quick brown fox jumps over the lazy dog")}, "1095738169"},
		{"ENCODE", []fnArg{b("\x00\xff"), s("hex")}, "'00ff'"},
		{"ENCODE", []fnArg{b("\x00\xff"), s("BASE64")}, "'AP8='"},
		{"ENCODE", []fnArg{s("x"), s("escape")}, "error: unrecognized encoding"},
		{"ENCODE", []fnArg{s("x"), fntNull(Varchar)}, "NULL"},
		{"ENCODE", []fnArg{s("0123456789012345678901234567890123456789012345678901234567890"), s("base64")},
			"'MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2\nNzg5MA=='"},
		{"DECODE", []fnArg{s("MDEy\nMzQ="), s("base64")}, "'\\x3031323334'"},
		{"DECODE", []fnArg{s("00fF"), s("hex")}, "'\\x00ff'"},
		{"DECODE", []fnArg{s("0g"), s("hex")}, "error: invalid hexadecimal data"},
		{"DECODE", []fnArg{s("!!"), s("base64")}, "error: invalid base64 data"},
	})
}

func TestFuncHashBytesAndText(t *testing.T) {
	for _, name := range []string{"MD5", "SHA1", "SHA256", "SHA512", "CRC32"} {
		a, err1 := fnCall(t, name, fntStr("héllo"))
		b, err2 := fnCall(t, name, fntBytes("héllo"))
		if err1 != nil || err2 != nil || string(a.B) != string(b.B) || a.I != b.I {
			t.Errorf("%s of text and bytes differ: %v %v %v %v", name, a, b, err1, err2)
		}
	}
}
