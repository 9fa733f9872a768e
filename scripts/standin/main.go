// Command standin runs local stand-ins for the Kakao Pay and Naver Pay APIs
// (the ones the tests use) and prints the rabbitpay settings that point live
// mode at them, to try `payment.provider: live` without provider accounts.
// They are NOT the providers: no money moves. Opening an approval URL they
// hand out approves the payment and sends the browser to rabbitpay's callback.
//
//	go run ./scripts/standin > standin.yaml   # then: rabbitpay --config standin.yaml …
package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/rabbitpay/rabbitpay/internal/payment/standin"
)

func main() {
	listen := "127.0.0.1:8789"
	if len(os.Args) > 1 {
		listen = os.Args[1]
	}
	k, n := standin.NewKakao(nil), standin.NewNaver(nil)
	defer k.Close()
	defer n.Close()
	k.OnProblem = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "Kakao Pay stand-in: "+f+"\n", a...) }
	n.OnProblem = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "Naver Pay stand-in: "+f+"\n", a...) }
	fmt.Print(standin.Settings(listen, "", k, n))
	fmt.Fprintln(os.Stderr, "stand-ins running; Ctrl-C stops them")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
}
