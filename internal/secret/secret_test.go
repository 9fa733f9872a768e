package secret

import (
	"strings"
	"testing"
)

func TestMaskEveryPasswordForm(t *testing.T) {
	t.Setenv("PGPASSWORD", "envS3cret")
	for _, tc := range []struct{ name, in, want string }{
		{"url userinfo", "postgres://shop:s3cret@db:5432/shop", "postgres://shop:xxxxx@db:5432/shop"},
		{"url userinfo with @ in it", "postgresql://shop:p@ss@db/shop?sslmode=disable", "postgresql://shop:xxxxx@db/shop?sslmode=disable"},
		{"url userinfo inside a sentence", "cannot use postgres://a:b@h/d: refused", "cannot use postgres://a:xxxxx@h/d: refused"},
		{"url password with / ? #", "postgres://shop:s3/c?r#t@db:5432/shop", "postgres://shop:xxxxx@db:5432/shop"},
		{"url user without password", "postgres://shop@db/shop", "postgres://shop@db/shop"},
		{"query password", "postgres://db/shop?password=s3cret&sslmode=disable", "postgres://db/shop?password=xxxxx&sslmode=disable"},
		{"query password last", "postgres://db/shop?sslmode=disable&password=s3cret", "postgres://db/shop?sslmode=disable&password=xxxxx"},
		{"query sslpassword", "postgres://db/shop?sslpassword=k3y", "postgres://db/shop?sslpassword=xxxxx"},
		{"key/value", "host=db user=shop password=s3cret dbname=shop", "host=db user=shop password=xxxxx dbname=shop"},
		{"key/value spaced", "host=db password = s3cret dbname=shop", "host=db password = xxxxx dbname=shop"},
		{"key/value quoted", "host=db password='s3 cr\\'et' dbname=shop", "host=db password=xxxxx dbname=shop"},
		{"key/value upper case", "PASSWORD=s3cret", "PASSWORD=xxxxx"},
		{"PGPASSWORD assignment", "PGPASSWORD=s3cret psql", "PGPASSWORD=xxxxx psql"},
		{"PGPASSWORD value anywhere", "server said: envS3cret is wrong", "server said: xxxxx is wrong"},
		{"nothing to hide", "cannot connect to 127.0.0.1:1: connection refused", "cannot connect to 127.0.0.1:1: connection refused"},
		{"empty password at the end", "host=db password=", "host=db password="},
		{"spaces around = as libpq allows", "password= s3cret", "password= xxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Mask(tc.in)
			if got != tc.want {
				t.Fatalf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, pw := range []string{"s3cret", "p@ss", "k3y", "cr\\'et", "envS3cret"} {
				if strings.Contains(got, pw) {
					t.Fatalf("Mask(%q) = %q still shows %q", tc.in, got, pw)
				}
			}
			if again := Mask(got); again != got {
				t.Fatalf("Mask is not idempotent: %q -> %q", got, again)
			}
		})
	}
}
