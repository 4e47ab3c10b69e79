package relay

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// serveClient reads the client's messages until it leaves. Simple queries
// and function calls are answered in order, from the cache or the server.
// Any message of the extended protocol turns the session transparent: the
// rest is copied both ways, since its answers are not framed per message
// (a Flush, for one, expects answers before any ReadyForQuery).
func (s *session) serveClient() error {
	defer close(s.items)
	for {
		m, err := s.be.Receive()
		if err != nil {
			return errClientGone
		}
		if s.transparent {
			if err := s.writeServer(m); err != nil {
				return err
			}
			continue
		}
		switch m := m.(type) {
		case *pgproto3.Query:
			s.r.queries.Add(1)
			err = s.query(m.String)
		case *pgproto3.FunctionCall:
			err = s.forward(m)
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			err = s.writeServer(m) // answered in the group of the COPY's query
		case *pgproto3.Terminate:
			s.terminated.Store(true)
			_ = s.writeServer(m)
			return errClientGone
		default:
			s.transparent = true
			g := &group{kind: endless, out: make(chan []byte, 4)}
			s.groups.push(g)
			if err = s.writeServer(m); err == nil {
				err = s.enqueue(item{g: g})
			}
		}
		if err != nil {
			return err
		}
	}
}

// enqueue hands an item to the pump, unless the session ends.
func (s *session) enqueue(it item) error {
	select {
	case s.items <- it:
		return nil
	case <-s.ctx.Done():
		return errClientGone
	}
}

// forward sends m to the server and queues its answer for the client.
func (s *session) forward(m pgproto3.FrontendMessage) error {
	g := &group{kind: forward, out: make(chan []byte, 4)}
	s.groups.push(g)
	s.outstanding.Add(1)
	if err := s.writeServer(m); err != nil {
		return err
	}
	return s.enqueue(item{g: g})
}

// query answers one simple query: from the cache if it was prefetched and
// kept in this transaction; by starting a prefetch if it is the first of
// its kind in this transaction, or one whose object is still to be
// prefetched, or a PREPARE of what a template executes, or a statement of
// a pinned run of catalog queries not prefetched yet; else from the
// server. The cache serves only a client whose answers are all in
// (pg_dump waits for each), inside the transaction block the entries were
// fetched in.
func (s *session) query(q string) error {
	if gen := s.txEnds.Load(); gen != s.cacheGen || changesAnswers(q) {
		s.cache.clear()
		s.cacheGen = gen
		s.lists = nil
		clear(s.triggered)
		clear(s.remaining)
		clear(s.runsSent)
	}
	settled := s.outstanding.Load() == 0 && byte(s.status.Load()) == 'T'
	if e := s.cache.take(q); e != nil {
		select {
		case <-e.done:
		case <-s.ctx.Done():
			return errClientGone
		}
		s.cache.release(e)
		if e.ok && settled {
			s.r.hits.Add(1)
			return s.enqueue(item{data: e.data, status: e.status})
		}
		s.r.misses.Add(1)
		return s.forward(&pgproto3.Query{String: q})
	}
	if p, ok := s.runAt[q]; ok && settled && !s.runsSent[p.run] && p.idx < len(s.runs[p.run])-1 {
		s.runsSent[p.run] = true
		return s.prefetchRun(p, q)
	}
	if t := s.prepared(q); t != nil && settled && !s.triggered[t.name] {
		// pg_dump prepares the statement it then executes per object:
		// its objects' batch goes right behind the PREPARE.
		s.triggered[t.name] = true
		return s.prefetch(t, "", q, s.lists[t.name])
	}
	for _, t := range s.tpls {
		key, ok := t.match(q)
		if !ok {
			continue
		}
		// The savepoint needs a transaction block, and the prefetch must
		// see the client's snapshot.
		switch {
		case settled && !s.triggered[t.name]:
			s.triggered[t.name] = true
			return s.prefetch(t, key, q, s.lists[t.name])
		case settled && len(s.remaining[t.name]) > 0:
			return s.prefetch(t, key, q, s.remaining[t.name])
		}
		s.r.misses.Add(1)
		break
	}
	return s.forward(&pgproto3.Query{String: q})
}

// prepared is the template whose EXECUTE runs the statement q prepares,
// if q is a PREPARE; nil otherwise.
func (s *session) prepared(q string) *template {
	rest, ok := strings.CutPrefix(q, "PREPARE ")
	if !ok {
		return nil
	}
	name, _, ok := strings.Cut(rest, "(")
	if !ok {
		return nil
	}
	for _, t := range s.tpls {
		if t.prefix == "EXECUTE "+name+"('" {
			return t
		}
	}
	return nil
}

// changesAnswers reports whether q may change what a prefetched query
// answers, or which statement an EXECUTE runs: a SET, RESET or set_config
// (the date style, the search path...), DISCARD, DEALLOCATE. pg_dump
// sends none while it reads the catalogs, but another client might: what
// was prefetched is then dropped.
func changesAnswers(q string) bool {
	word, _, _ := strings.Cut(strings.TrimLeft(q, " \t\r\n"), " ")
	switch strings.ToUpper(word) {
	case "SET", "RESET", "DISCARD", "DEALLOCATE":
		return true
	}
	return strings.Contains(strings.ToLower(q), "set_config")
}

// prefetch forwards the trigger query q and, in the same write, a
// savepoint and, at the first prefetch of a transaction, every template's
// catalog query for its keys, each followed by ROLLBACK TO SAVEPOINT so
// one failing leaves the others. Once the keys are known (one round trip,
// which overlaps the trigger's own, and only once a transaction), it
// pipelines pg_dump's exact query for the next chunk of objects, inside the
// savepoint so that an error cannot abort pg_dump's transaction.
func (s *session) prefetch(t *template, key, q string, keys []keyed) error {
	trigger := &group{kind: forward, out: make(chan []byte, 4)}
	groups := []*group{trigger, {kind: discard}}
	msgs := []pgproto3.FrontendMessage{&pgproto3.Query{String: q}, &pgproto3.Query{String: "SAVEPOINT " + savepoint}}
	var lists []*group
	if s.lists == nil {
		rollback := &pgproto3.Query{String: "ROLLBACK TO SAVEPOINT " + savepoint}
		for _, lt := range s.tpls {
			g := &group{kind: collect, keys: make(chan []keyed, 1)}
			lists = append(lists, g)
			groups = append(groups, g, &group{kind: discard})
			msgs = append(msgs, &pgproto3.Query{String: lt.list}, rollback)
		}
	}
	s.groups.push(groups...)
	s.outstanding.Add(1)
	if err := s.writeServer(msgs...); err != nil {
		return err
	}
	if err := s.enqueue(item{g: trigger}); err != nil {
		return err
	}
	if lists != nil {
		s.lists = make(map[string][]keyed, len(lists))
		for i, g := range lists {
			select {
			case s.lists[s.tpls[i].name] = <-g.keys:
			case <-s.ctx.Done():
				return errClientGone
			}
		}
		keys = s.lists[t.name]
	}
	chunk, rest := nextChunk(keys, key, s.r.cfg.CacheBytes/2, maxChunk)
	s.remaining[t.name] = rest
	texts := make([]string, len(chunk))
	for i, k := range chunk {
		texts[i] = t.render(k)
	}
	return s.sendBatch(t.name, texts, 0)
}

// prefetchRun forwards q, a statement of a pinned run, and, in the same
// write, a savepoint and the run's later statements, pg_dump's next ones:
// read-only SELECTs that pg_dump sends with no barrier (a LOCK, a SET)
// between q and them.
func (s *session) prefetchRun(p runPos, q string) error {
	trigger := &group{kind: forward, out: make(chan []byte, 4)}
	s.groups.push(trigger, &group{kind: discard})
	s.outstanding.Add(1)
	if err := s.writeServer(&pgproto3.Query{String: q}, &pgproto3.Query{String: "SAVEPOINT " + savepoint}); err != nil {
		return err
	}
	if err := s.enqueue(item{g: trigger}); err != nil {
		return err
	}
	return s.sendBatch("run"+strconv.Itoa(p.run+1), s.runs[p.run][p.idx+1:], s.r.cfg.CacheBytes/runShare)
}

// runShare is the part of the cache's budget a run's answers may fill: a
// catalog with tens of thousands of objects answers pg_dump's bulk
// queries with megabytes each, which then pass through rather than hold
// the relay's memory near its whole budget.
const runShare = 4

// sendBatch pipelines texts (a template's query for each key, or a run's
// statements) into the cache, then rolls back to the savepoint and
// releases it; name names the batch in events. An answer is kept only if
// the cache then holds at most within bytes (0: the whole budget). One
// savepoint covers the batch, not one per query: Prisma Postgres bills
// every statement, and an error in one (then "current transaction is
// aborted" for the rest) only makes those queries pass through when
// pg_dump asks; pg_dump asking the failing one meets the same error
// itself.
func (s *session) sendBatch(name string, texts []string, within int64) error {
	groups := make([]*group, 0, len(texts)+2)
	msgs := make([]pgproto3.FrontendMessage, 0, len(texts)+2)
	for _, text := range texts {
		e := s.cache.addWithin(text, within)
		if e == nil {
			continue
		}
		groups = append(groups, &group{kind: fill, entry: e})
		msgs = append(msgs, &pgproto3.Query{String: text})
	}
	n := len(groups)
	s.r.prefetched.Add(int64(n))
	done := func() { s.r.emit(Event{Kind: PrefetchDone, Template: name, Objects: n}) }
	groups = append(groups, &group{kind: discard}, &group{kind: discard, onDone: done})
	msgs = append(msgs, &pgproto3.Query{String: "ROLLBACK TO SAVEPOINT " + savepoint},
		&pgproto3.Query{String: "RELEASE SAVEPOINT " + savepoint})
	s.groups.push(groups...)
	s.r.emit(Event{Kind: PrefetchStarted, Template: name, Objects: n})
	return s.writeServer(msgs...)
}

// maxChunk bounds the objects of one batch: what a batch holds in flight
// (its messages, its pending entries) stays a few megabytes however many
// objects the database has.
const maxChunk = 5000

// nextChunk picks at most n keys to prefetch after asked (which is being
// fetched): those after it in the list, then those before, as long as their
// estimated sizes add up to at most limit (an object larger than limit
// alone is never prefetched). rest is what was not picked, in order.
func nextChunk(keys []keyed, asked string, limit int64, n int) (chunk []string, rest []keyed) {
	start := 0
	for i, k := range keys {
		if k.key == asked {
			start = i + 1
			break
		}
	}
	picked := make([]bool, len(keys))
	var sum int64
	for j := range keys {
		i := (start + j) % len(keys)
		k := keys[i]
		if k.key == asked || k.size > limit || sum+k.size > limit || len(chunk) == n {
			continue
		}
		sum += k.size
		picked[i] = true
		chunk = append(chunk, k.key)
	}
	for i, k := range keys {
		if !picked[i] && k.key != asked && k.size <= limit {
			rest = append(rest, k)
		}
	}
	return chunk, rest
}
