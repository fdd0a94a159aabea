package tableausim_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// Example serves the fixture site on a free loopback port and signs in with
// one of its tokens, as a client does.
func Example() {
	site, err := tableausim.LoadSite("../sites/fixture.json")
	if err != nil {
		log.Fatal(err)
	}
	srv := tableausim.New(site)
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	body := `<tsRequest><credentials personalAccessTokenName="ci-token" personalAccessTokenSecret="ci-secret-value-0001">` +
		`<site contentUrl="acme"/></credentials></tsRequest>`
	resp, err := http.Post(srv.URL()+"/api/3.24/auth/signin", "application/xml", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)

	var signedIn struct {
		Credentials struct {
			Site struct {
				ID string `xml:"id,attr"`
			} `xml:"site"`
		} `xml:"credentials"`
	}
	if err := xml.Unmarshal(raw, &signedIn); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, signedIn.Credentials.Site.ID)
	fmt.Println(srv.Count(tableausim.KindSignIn), "sign-in")
	// Output:
	// 200 0f3e5c1a-7d2b-4c8e-9a61-2b4d6f8a0c13
	// 1 sign-in
}
