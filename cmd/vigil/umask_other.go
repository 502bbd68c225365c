//go:build !unix

package main

// restrictUmask has no equivalent here: files take their folder's access
// control list.
func restrictUmask() {}
