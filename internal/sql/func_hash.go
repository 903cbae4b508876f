package sql

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strings"
)

// Hash and encoding functions. Digests are returned as lower-case
// hexadecimal text (PostgreSQL's md5 does so; its sha256 and sha512 return
// bytea, which encode(sha256(x), 'hex') turns into the same text).

var (
	errFnBadHex    = &EvalError{Msg: "invalid hexadecimal data"}
	errFnBadBase64 = &EvalError{Msg: "invalid base64 data"}
)

func fnHexDigest(e *Env, sum []byte) Value {
	start, b := e.Begin()
	b = hex.AppendEncode(b, sum)
	return e.End(start, b)
}

func fnHashSigs(f func(e *Env, a Value) Value) []Signature {
	b := fnStrict1(f)
	return []Signature{fnSig(Varchar, b, Varchar), fnSig(Varchar, b, Bytes)}
}

// fnBase64Line is how many input bytes PostgreSQL's base64 encoding puts
// on one 76-character line.
const fnBase64Line = 57

func fnEncode(e *Env, src []byte, base64Format bool) Value {
	start, b := e.Begin()
	if !base64Format {
		b = hex.AppendEncode(b, src)
		return e.End(start, b)
	}
	for len(src) > 0 {
		n := min(len(src), fnBase64Line)
		b = base64.StdEncoding.AppendEncode(b, src[:n])
		src = src[n:]
		if len(src) > 0 {
			b = append(b, '\n')
		}
	}
	return e.End(start, b)
}

func fnDecode(e *Env, src []byte, base64Format bool) Value {
	start, b := e.Begin()
	var err error
	if base64Format {
		b, err = base64.StdEncoding.AppendDecode(b, src)
	} else {
		b, err = hex.AppendDecode(b, src)
	}
	if err != nil { // leave the scratch buffer as it was
		if base64Format {
			e.Fail(errFnBadBase64)
		} else {
			e.Fail(errFnBadHex)
		}
		return Null
	}
	return e.End(start, b)
}

// fnFormatArg reads the constant encoding name of ENCODE and DECODE.
func fnFormatArg(fn string, a Arg) (bool, error) {
	text, err := fnConstText(a, "format", fn)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(text) {
	case "hex":
		return false, nil
	case "base64":
		return true, nil
	}
	return false, fmt.Errorf("%s: unrecognized encoding %q (supported: hex, base64)", fn, text)
}

func fnEncodeBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[1:]) {
		return fnNullEval, nil
	}
	b64, err := fnFormatArg("ENCODE", args[1])
	if err != nil {
		return nil, err
	}
	return fnStrict1(func(e *Env, a Value) Value { return fnEncode(e, a.B, b64) })(args[:1])
}

func fnDecodeBuild(args []Arg) (Eval, error) {
	if fnHasNullConst(args[1:]) {
		return fnNullEval, nil
	}
	b64, err := fnFormatArg("DECODE", args[1])
	if err != nil {
		return nil, err
	}
	return fnStrict1(func(e *Env, a Value) Value { return fnDecode(e, a.B, b64) })(args[:1])
}

func init() {
	const cat = "hash"
	fnRegister("MD5", cat, "The MD5 digest of the string (its UTF-8 bytes) or byte string, as 32 lower-case hexadecimal digits.",
		"MD5('abc')", "'900150983cd24fb0d6963f7d28e17f72'",
		fnHashSigs(func(e *Env, a Value) Value { s := md5.Sum(a.B); return fnHexDigest(e, s[:]) })...)
	fnRegister("SHA1", cat, "The SHA-1 digest as 40 lower-case hexadecimal digits (PostgreSQL has it in pgcrypto as digest(x, 'sha1')).",
		"SHA1('abc')", "'a9993e364706816aba3e25717850c26c9cd0d89d'",
		fnHashSigs(func(e *Env, a Value) Value { s := sha1.Sum(a.B); return fnHexDigest(e, s[:]) })...)
	fnRegister("SHA256", cat, "The SHA-256 digest as 64 lower-case hexadecimal digits (PostgreSQL's sha256 returns the bytes; this is encode(sha256(x), 'hex')).",
		"SHA256('abc')", "'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'",
		fnHashSigs(func(e *Env, a Value) Value { s := sha256.Sum256(a.B); return fnHexDigest(e, s[:]) })...)
	fnRegister("SHA512", cat, "The SHA-512 digest as 128 lower-case hexadecimal digits (PostgreSQL's sha512 returns the bytes; this is encode(sha512(x), 'hex')).",
		"SHA512('abc')", "'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'",
		fnHashSigs(func(e *Env, a Value) Value { s := sha512.Sum512(a.B); return fnHexDigest(e, s[:]) })...)
	crc := fnStrict1(func(_ *Env, a Value) Value { return Value{I: int64(crc32.ChecksumIEEE(a.B))} })
	fnRegister("CRC32", cat, "The CRC-32 (IEEE) checksum, between 0 and 4294967295 (not in PostgreSQL).",
		"CRC32('abc')", "891568578", fnSig(BigInt, crc, Varchar), fnSig(BigInt, crc, Bytes))
	fnRegister("ENCODE", cat, "The byte string (or the UTF-8 bytes of a string) as text in the constant format 'hex' or 'base64' (lines of 76 characters, as PostgreSQL).",
		"ENCODE('hello', 'base64')", "'aGVsbG8='", fnSig(Varchar, fnEncodeBuild, Bytes, Varchar), fnSig(Varchar, fnEncodeBuild, Varchar, Varchar))
	fnRegister("DECODE", cat, "The bytes of text in the constant format 'hex' or 'base64' (line breaks ignored); malformed text is an error.",
		"ENCODE(DECODE('aGVsbG8=', 'base64'), 'hex')", "'68656c6c6f'", fnSig(Bytes, fnDecodeBuild, Varchar, Varchar))
}
