// Package notify builds and delivers Vigil's outbound messages: notices to
// hosting providers (and renotices and escalations to upstream networks) by
// e-mail, and forwards to the police and partner hotlines as encrypted
// packages. It holds no state: the caller stores every message and its
// delivery result, following the protocol below.
//
// Notices never carry media. A Notice has no field that could hold media
// bytes; it names content by URL, time seen, classification category and an
// evidence reference only. Media leave Vigil only inside a forward package,
// only when the route says so, and only encrypted with age.
//
// # Messages
//
// Mailer.RenderNotice and Mailer.RenderForward are pure: the same input
// gives the same bytes, including the Message-ID, which is derived from the
// message's ID in Vigil (<vigil.ID@domain>), and the Date, which the caller
// supplies. A resend of a stored message is therefore byte-identical and
// recognisable by anyone who saw the first copy. Bodies come from
// text/template templates per language (nl, fr, de, en), embedded and all
// checked when a Mailer is made, so a missing or broken translation stops
// start-up rather than a send.
//
// Mailer.Send delivers one rendered Message over SMTP with net/smtp:
// STARTTLS (required by default), optional AUTH PLAIN, a dial timeout and a
// timeout on the whole exchange. It never retries by itself: retrying is the
// caller's decision, under the protocol below.
//
// # Exactly-once protocol
//
// SMTP cannot make a send atomic with a database write, so the caller makes
// the window in which a crash leaves the outcome unknown as small as
// possible, and never closes that window by guessing:
//
//  1. Render the message and store it (ID, Message-ID, Date, the raw bytes
//     or enough input to render them again) in state "pending", in the same
//     transaction as the decision to send it.
//  2. Claim it: move it from "pending" to "sending" with a conditional
//     update (UPDATE … SET state='sending' WHERE id=? AND state='pending')
//     and commit. Only the worker whose update changed a row may send.
//  3. Send (Mailer.Send, or Transport.Deliver for packages).
//  4. Record the outcome in one update (Classify maps the error to it):
//     - nil error: "sent", with Receipt.Reply (the server's final reply,
//     which carries its queue id), Receipt.At and Receipt.TLS.
//     - an error for which Uncertain(err) is false: nothing was delivered
//     (the failure came before the end of the DATA, or the server refused
//     the message). Record "failed" with the error. When Temporary(err) it
//     may go back to "pending" for a later attempt with back-off; a
//     permanent failure (5xx) waits for a human.
//     - an error for which Uncertain(err) is true: the message was handed
//     over but no reply came. Record "uncertain"; never resend it
//     automatically.
//  5. At start-up, every message still in "sending" was interrupted at an
//     unknown point. If the transport implements Verifier (OutboxTransport
//     does: a package file appears in the folder atomically), ask it and
//     record "sent" or retry accordingly; otherwise mark it "uncertain".
//     Recover does this.
//
// A human resolves "uncertain" messages, for example by searching the relay's
// log for the Message-ID, and either marks them sent or puts them back to
// "pending". A resend then carries the same Message-ID, so the recipient can
// recognise it as the same notice. Following the protocol, a crash between
// Send and step 4 never causes a second send; at worst a message waits for a
// human.
//
// # Packages
//
// A forward package is one file, "vigil-ID.tar.age": an uncompressed POSIX
// tar, encrypted with age to the recipient's keys, holding
//
//	manifest.json      the case as JSON (see Manifest; format "vigil-package/1")
//	summary.txt        a readable summary in the recipient's language
//	media/SHA256.age   each included media file, itself age-encrypted
//
// Media are encrypted a second time on their own so that unpacking the
// archive never writes abusive material to disk in the clear: an analyst
// decrypts each file deliberately into the evidence system. With the
// standard tool:
//
//	age -d -i key.txt vigil-ID.tar.age > vigil-ID.tar
//	tar xf vigil-ID.tar
//	age -d -i key.txt media/SHA256.age > SHA256.bin
//
// A package for a recipient without a key is a plain "vigil-ID.tar"; it is
// built only when asked for explicitly and never holds media. ReadPackage
// opens a package (for partner hotlines that run Vigil, and for tests).
// Packages travel over a Transport: SMTPTransport mails them as an
// attachment, OutboxTransport writes them to a folder.
package notify
