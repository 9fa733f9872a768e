package shop

import "testing"

func TestSortKey(t *testing.T) {
	keys := []string{"id", "name", "price"}
	for _, tc := range []struct {
		o    ListOptions
		key  string
		desc bool
		msg  string
	}{
		{o: ListOptions{}, key: "id"},
		{o: ListOptions{Sort: "-"}, key: "id", desc: true},
		{o: ListOptions{Sort: "name"}, key: "name"},
		{o: ListOptions{Sort: "-price"}, key: "price", desc: true},
		{o: ListOptions{Sort: "id", After: 5}, key: "id"},
		{o: ListOptions{After: 5}, key: "id"},
		{o: ListOptions{Sort: "-id", After: 5}, msg: "paging with an 'after' key works in the default order (by id, ascending) only"},
		{o: ListOptions{Sort: "name", After: 5}, msg: "by id, ascending"},
		{o: ListOptions{Sort: "stock"}, msg: `sort key "stock" is not one of id, name, price (put - before it for descending)`},
		{o: ListOptions{Sort: "--name"}, msg: `sort key "--name" is not one of`},
		{o: ListOptions{Sort: "Name"}, msg: `sort key "Name" is not one of`},
	} {
		key, desc, err := tc.o.SortKey(keys...)
		if tc.msg != "" {
			check(t, tc.o.Sort, err, tc.msg)
			continue
		}
		if err != nil || key != tc.key || desc != tc.desc {
			t.Errorf("%+v: %q %v %v", tc.o, key, desc, err)
		}
	}
}
