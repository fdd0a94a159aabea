package lineage

import "hash/maphash"

// keyCase is the case that index keys fold names to.
type keyCase uint8

const (
	keyLower keyCase = iota
	keyUpper
	// keyExact keeps names as they are, for warehouses where every
	// comparison is exact.
	keyExact
)

// Kinds of index key, so that keys of different maps never collide by
// construction.
const (
	kindFull   = 'f'
	kindSchema = 's'
	kindName   = 'n'
)

// keyer hashes folded names into index keys. A key only narrows the
// candidates: two names with equal keys are still compared under the
// warehouse's rules, so a hash collision cannot make a wrong match.
type keyer struct {
	seed maphash.Seed
	fold keyCase
}

func newKeyer(fold keyCase) keyer {
	return keyer{seed: maphash.MakeSeed(), fold: fold}
}

// key hashes the kind and up to three names, each folded, without
// allocating for names of ordinary length.
func (k keyer) key(kind byte, a, b, c string) uint64 {
	var buf [192]byte
	out := append(buf[:0], kind)
	out = k.appendFolded(out, a)
	out = append(out, 0)
	out = k.appendFolded(out, b)
	out = append(out, 0)
	out = k.appendFolded(out, c)
	return maphash.Bytes(k.seed, out)
}

func (k keyer) appendFolded(dst []byte, s string) []byte {
	switch k.fold {
	case keyLower:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
	case keyUpper:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
	default:
		dst = append(dst, s...)
	}
	return dst
}
