package s3test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestUnsignedRefused(t *testing.T) {
	s := NewServer("AK", "")
	defer s.Close()
	s.MakeBucket("b")
	for _, auth := range []string{"", "AWS4-HMAC-SHA256 Credential=OTHER/20260101/us-east-1/s3/aws4_request"} {
		req, _ := http.NewRequest(http.MethodGet, s.HTTP.URL+"/b/key", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>") {
			t.Errorf("auth %q: %d %s", auth, resp.StatusCode, body)
		}
	}
}

func TestDecodeChunked(t *testing.T) {
	good := "5;chunk-signature=aa\r\nhello\r\n1\r\n!\r\n0;chunk-signature=bb\r\nx-amz-checksum-crc32c:AAAA\r\n\r\n"
	got, err := decodeChunked(bufio.NewReader(strings.NewReader(good)))
	if err != nil || string(got) != "hello!" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, bad := range []string{"", "zz\r\n", "5\r\nhel", "5\r\nhelloXX0\r\n\r\n", "5\r\nhello\r\n"} {
		if _, err := decodeChunked(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}
