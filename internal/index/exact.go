package index

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	vigil "github.com/vigil-hotline/vigil"
)

// Exact indexes the exact signals (MD5, SHA-1, SHA-256): value to entry IDs.
// One value can be in several banks, hence several IDs. Safe for concurrent
// use; lookups share a read lock with each other.
type Exact struct {
	mu     sync.RWMutex
	md5    exactMap[[16]byte]
	sha1   exactMap[[20]byte]
	sha256 exactMap[[32]byte]
}

// exactMap keeps the common single-ID case in a map of int64, a third of the
// size of a map of slices.
type exactMap[K comparable] struct {
	one  map[K]int64
	many map[K][]int64
	n    int
}

func (m *exactMap[K]) add(k K, id int64) error {
	if m.one == nil {
		m.one, m.many = make(map[K]int64), make(map[K][]int64)
	}
	if ids, ok := m.many[k]; ok {
		if slices.Contains(ids, id) {
			return ErrExists
		}
		m.many[k] = append(ids, id)
	} else if old, ok := m.one[k]; ok {
		if old == id {
			return ErrExists
		}
		delete(m.one, k)
		m.many[k] = []int64{old, id}
	} else {
		m.one[k] = id
	}
	m.n++
	return nil
}

func (m *exactMap[K]) remove(k K, id int64) error {
	if old, ok := m.one[k]; ok && old == id {
		delete(m.one, k)
		m.n--
		return nil
	}
	ids := m.many[k]
	i := slices.Index(ids, id)
	if i < 0 {
		return ErrNotFound
	}
	ids = slices.Delete(slices.Clone(ids), i, i+1)
	if len(ids) == 1 {
		delete(m.many, k)
		m.one[k] = ids[0]
	} else {
		m.many[k] = ids
	}
	m.n--
	return nil
}

func (m *exactMap[K]) lookup(k K) []int64 {
	if id, ok := m.one[k]; ok {
		return []int64{id}
	}
	return slices.Clone(m.many[k])
}

// NewExact returns an empty exact index.
func NewExact() *Exact { return &Exact{} }

// Len is the number of (value, ID) pairs.
func (x *Exact) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.md5.n + x.sha1.n + x.sha256.n
}

// do runs f on the map for kind with value as its key type.
func (x *Exact) do(kind vigil.SignalType, value []byte, f16 func(*exactMap[[16]byte], [16]byte) error,
	f20 func(*exactMap[[20]byte], [20]byte) error, f32 func(*exactMap[[32]byte], [32]byte) error) error {
	want := 0
	switch kind {
	case vigil.SignalMD5:
		want = 16
	case vigil.SignalSHA1:
		want = 20
	case vigil.SignalSHA256:
		want = 32
	default:
		return vigil.Errorf(vigil.EINVALID, "signal type %q is not an exact hash", string(kind))
	}
	if len(value) != want {
		return vigil.Errorf(vigil.EINVALID, "a %s value is %d bytes, got %d", kind, want, len(value))
	}
	switch want {
	case 16:
		return f16(&x.md5, [16]byte(value))
	case 20:
		return f20(&x.sha1, [20]byte(value))
	default:
		return f32(&x.sha256, [32]byte(value))
	}
}

// Add indexes value (raw bytes, not hex) of the given kind under id.
func (x *Exact) Add(kind vigil.SignalType, value []byte, id int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	err := x.do(kind, value,
		func(m *exactMap[[16]byte], k [16]byte) error { return m.add(k, id) },
		func(m *exactMap[[20]byte], k [20]byte) error { return m.add(k, id) },
		func(m *exactMap[[32]byte], k [32]byte) error { return m.add(k, id) })
	if err != nil {
		return fmt.Errorf("index: add %s %x as %d: %w", kind, value, id, err)
	}
	return nil
}

// Remove takes the pair (value, id) out.
func (x *Exact) Remove(kind vigil.SignalType, value []byte, id int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	err := x.do(kind, value,
		func(m *exactMap[[16]byte], k [16]byte) error { return m.remove(k, id) },
		func(m *exactMap[[20]byte], k [20]byte) error { return m.remove(k, id) },
		func(m *exactMap[[32]byte], k [32]byte) error { return m.remove(k, id) })
	if err != nil {
		return fmt.Errorf("index: remove %s %x as %d: %w", kind, value, id, err)
	}
	return nil
}

// Lookup returns the IDs indexed under value, in the order they were added.
// No match is an empty result, not an error; errors are for a bad kind or
// length.
func (x *Exact) Lookup(kind vigil.SignalType, value []byte) ([]int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var ids []int64
	err := x.do(kind, value,
		func(m *exactMap[[16]byte], k [16]byte) error { ids = m.lookup(k); return nil },
		func(m *exactMap[[20]byte], k [20]byte) error { ids = m.lookup(k); return nil },
		func(m *exactMap[[32]byte], k [32]byte) error { ids = m.lookup(k); return nil })
	if err != nil {
		return nil, fmt.Errorf("index: lookup: %w", err)
	}
	return ids, nil
}

// Each calls fn for every (value, ID) pair, under the read lock: fn must
// not call back into x. It stops at fn's first error.
func (x *Exact) Each(fn func(kind vigil.SignalType, value []byte, id int64) error) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if err := eachExact(&x.md5, func(k [16]byte) []byte { return k[:] }, vigil.SignalMD5, fn); err != nil {
		return err
	}
	if err := eachExact(&x.sha1, func(k [20]byte) []byte { return k[:] }, vigil.SignalSHA1, fn); err != nil {
		return err
	}
	return eachExact(&x.sha256, func(k [32]byte) []byte { return k[:] }, vigil.SignalSHA256, fn)
}

func eachExact[K comparable](m *exactMap[K], raw func(K) []byte, kind vigil.SignalType, fn func(vigil.SignalType, []byte, int64) error) error {
	for k, id := range m.one {
		if err := fn(kind, raw(k), id); err != nil {
			return err
		}
	}
	for k, ids := range m.many {
		for _, id := range ids {
			if err := fn(kind, raw(k), id); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddMany indexes many values of one kind at once, under one lock: values
// holds them back to back (raw bytes), ids their entry IDs in order. Pairs
// already indexed are skipped, as a bulk load repeated would have them.
func (x *Exact) AddMany(kind vigil.SignalType, values []byte, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	size := len(values) / len(ids)
	if size*len(ids) != len(values) {
		return fmt.Errorf("index: add many: %d bytes for %d values", len(values), len(ids))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, id := range ids {
		err := x.do(kind, values[i*size:(i+1)*size],
			func(m *exactMap[[16]byte], k [16]byte) error { return m.add(k, id) },
			func(m *exactMap[[20]byte], k [20]byte) error { return m.add(k, id) },
			func(m *exactMap[[32]byte], k [32]byte) error { return m.add(k, id) })
		if err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("index: add many: %w", err)
		}
	}
	return nil
}
