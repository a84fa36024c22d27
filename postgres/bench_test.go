package postgres_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/storetest"
	"github.com/jackc/pgx/v5"
)

// BenchmarkAppendRecords measures AppendRecords of batches of 1 and 500
// records, one account, one writer.
//
//	AUDITTRAIL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench AppendRecords -benchtime 20x ./postgres/
func BenchmarkAppendRecords(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			now := time.Now().UTC()
			db := MustOpenNew(b, func() time.Time { return now })
			id := mustAccount(b, db)
			entries := storetest.Entries(storetest.Records(n, now)...)
			b.ResetTimer()
			for range b.N {
				if _, err := db.AppendRecords(ctx, id, entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkInsert500 compares the two ways of writing the rows of an
// append of 500 records (500 records and about 1,000 tree nodes, in one
// transaction, on the store's own schema): COPY (pgx's CopyFrom, the binary
// copy protocol), which AppendRecords uses, and one multi-row INSERT per
// table that takes each column as an array (INSERT ... SELECT FROM
// unnest($1, $2, ...)). It reports the mean time of a batch of each.
//
//	AUDITTRAIL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench Insert500 -benchtime 200x ./postgres/
func BenchmarkInsert500(b *testing.B) {
	const n = 500
	u, _ := MustSchema(b)
	MustOpenDB(b, u, nil) // migrates
	conn := mustConnect(b, u)
	now := time.Now().UTC().Truncate(time.Millisecond)
	originator, _ := json.Marshal(audittrail.Originator{ID: "o-1", Name: "Olga Operator"})

	// rows returns the columns of the records and nodes of the i-th batch.
	type batch struct {
		records [][]any
		nodes   [][]any
	}
	account := 0
	next := func() batch {
		account++
		var bt batch
		acct := fmt.Sprintf("bench-%d", account)
		for seq := range n {
			r := storetest.NewRecord(now)
			bt.records = append(bt.records, []any{acct, int64(seq), fmt.Sprintf("rec_%d_%d", account, seq), r.ChangeID, r.ObjectType, r.ObjectID,
				r.ObjectName, r.ActionType, r.Element, r.OldValue, r.NewValue, now, r.Originator.ID, r.Originator.Name, string(originator),
				false, now, r.Source, audittrail.SearchText(r)})
			h := sha256.Sum256([]byte{byte(seq)})
			bt.nodes = append(bt.nodes, []any{acct, int16(0), int64(seq), h[:]})
			for level := 1; seq%(1<<level) == (1<<level)-1; level++ {
				bt.nodes = append(bt.nodes, []any{acct, int16(level), int64(seq >> level), h[:]})
			}
		}
		return bt
	}
	recordCols := []string{"account_id", "seq", "id", "change_id", "object_type", "object_id", "object_name", "action_type",
		"element", "old_value", "new_value", "date", "originator_id", "originator_name", "originator", "automatic", "received_at",
		"source", "search_text"}
	nodeCols := []string{"account_id", "level", "idx", "hash"}

	copyFrom := func(bt batch) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordCols, pgx.CopyFromRows(bt.records)); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"tree_nodes"}, nodeCols, pgx.CopyFromRows(bt.nodes))
			return err
		})
	}

	recordTypes := []string{"text", "bigint", "text", "text", "text", "text", "text", "text", "text", "text", "text",
		"timestamptz", "text", "text", "jsonb", "boolean", "timestamptz", "text", "text"}
	nodeTypes := []string{"text", "smallint", "bigint", "bytea"}
	insertSQL := func(table string, cols, types []string) string {
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT * FROM unnest("
		for i, t := range types {
			if i > 0 {
				q += ", "
			}
			q += fmt.Sprintf("$%d::%s[]", i+1, t)
		}
		return q + ")"
	}
	// columns turns rows into one typed slice per column, as a caller of
	// this form of INSERT would build them.
	columns := func(rows [][]any) []any {
		out := make([]any, len(rows[0]))
		for j := range out {
			switch rows[0][j].(type) {
			case string:
				out[j] = column[string](rows, j)
			case int64:
				out[j] = column[int64](rows, j)
			case int16:
				out[j] = column[int16](rows, j)
			case bool:
				out[j] = column[bool](rows, j)
			case time.Time:
				out[j] = column[time.Time](rows, j)
			case []byte:
				out[j] = column[[]byte](rows, j)
			}
		}
		return out
	}
	insertRecords, insertNodes := insertSQL("records", recordCols, recordTypes), insertSQL("tree_nodes", nodeCols, nodeTypes)
	insert := func(bt batch) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, insertRecords, columns(bt.records)...); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, insertNodes, columns(bt.nodes)...)
			return err
		})
	}

	// The two ways take turns, so that both meet the same load of a shared
	// machine and the same size of table and indexes.
	var spent [2]time.Duration
	for i := range b.N {
		bt := next()
		begin := time.Now()
		var err error
		if i%2 == 0 {
			err = copyFrom(bt)
		} else {
			err = insert(bt)
		}
		if err != nil {
			b.Fatal(err)
		}
		spent[i%2] += time.Since(begin)
	}
	if b.N >= 2 {
		copies, inserts := (b.N+1)/2, b.N/2
		b.ReportMetric(float64(spent[0].Microseconds())/1000/float64(copies), "copy-ms/batch")
		b.ReportMetric(float64(spent[1].Microseconds())/1000/float64(inserts), "insert-ms/batch")
	}
}

// column returns the j-th column of rows.
func column[T any](rows [][]any, j int) []T {
	col := make([]T, len(rows))
	for i, row := range rows {
		col[i] = row[j].(T)
	}
	return col
}
