//! What to tell a learner who made each mistake: the advice, in plain words. The chapter and
//! section that explain it are in [`super`].

use super::Hint;

impl Hint {
    /// The advice, in plain words.
    pub fn advice(&self) -> String {
        use Hint::*;
        match self {
            NotDone { location, .. } => {
                format!("not done yet: start at the TODO in {location}")
            }
            DoesNotCompile { .. } => "the program does not compile: the compiler's message is \
                above; fix the first error first, the others often follow from it"
                .into(),
            Panicked { .. } => "the program panicked. A panic is never a way to report an \
                error: every call that can fail (connect, send, recv) returns a Result; turn the \
                error into one line on standard error (`eprintln!`) and exit with status 1"
                .into(),
            Crashed { .. } => {
                "the program was killed by a signal. If it was SIGPIPE, it wrote to a \
                connection the peer had closed; Rust programs normally get an EPIPE error instead"
                    .into()
            }
            ErrorNotReported { .. } => "when the exchange cannot be done the program must say so: \
                one line on standard error, and exit status 1 (not 0, and not silence)"
                .into(),
            FailedNeedlessly { .. } => "the program gave up although the server was there and \
                would have answered: read the error it printed, and compare its steps with the chapter's"
                .into(),
            MadeUpReplies { .. } => "the program printed lines the server never sent. A client \
                prints what it receives, byte for byte: the grader's server makes replies that \
                cannot be guessed from the requests"
                .into(),
            AddressFamily { .. } => "HOST may be a name (localhost), an IPv4 literal or an IPv6 \
                literal (::1). Resolve it with `ToSocketAddrs` (\"HOST:PORT\" does not work for \
                IPv6; use (host, port)), and make the socket of the family of the address you got: \
                an IPv4 socket cannot talk to ::1"
                .into(),
            WrongOutput { .. } => "what the program printed is not what the server sent: compare \
                the two, line by line, in the transcript above"
                .into(),
            WrongRequests { .. } => "the server did not receive what the contract says to send: \
                each input line, in order (UDP: one datagram per line, without the newline; TCP: \
                the line with its newline)"
                .into(),
            Hung { .. } => "the program was still running long after its input ended, although \
                nothing was lost: it waits for something that never comes. Compare what it waits \
                for with the contract"
                .into(),
            Setup { .. } => "the grader could not set this check up, which is not your program's \
                fault: run it again, and report it if it keeps happening"
                .into(),
            UsageNotReported { .. } => "when the command line is wrong (no arguments, too many, \
                a port that is not a number from 1 to 65535), print one usage line on standard \
                error, such as `usage: NAME HOST PORT`, and exit with status 2 \
                (`ExitCode::from(2)`): 2 is what a wrong command line exits with, by convention, \
                and 1 is for errors once the program runs"
                .into(),
            NotInteractive { .. } => "a person types one line and waits for its reply before \
                typing the next: print each reply as soon as it has come, before reading the \
                next line of input (Rust's standard output flushes at every newline; a \
                `BufWriter` around it does not, so flush it after each reply). Do not read all of \
                standard input first"
                .into(),
            SplitWrites { .. } => "each message reached the server about 40 ms after the one \
                before: the program writes a message in two pieces (a line, then its newline; a \
                frame's header, then its payload). The second piece waits until the server has \
                acknowledged the first (Nagle's algorithm), and the server, with no whole message \
                to answer yet, delays its acknowledgement by up to 40 ms. Build the whole message \
                in one buffer and send it with one `write_all`"
                .into(),
            UdpNoRetry => "UDP does not deliver every datagram: the server never got the first \
                copy. When no reply comes within 1 s, send the same datagram again (3 tries in \
                all) before giving up"
                .into(),
            UdpTooManyTries => "send each line at most 3 times, wait 1 s for the reply after each \
                try, and after the third give up: one line on standard error, exit status 1. A \
                program that never gives up never reports the lost server either"
                .into(),
            UdpTryWait => "after each try, wait 1 s for the reply, no less (a server may take \
                most of a second to answer) and no more (the grader accepts 0.8 s to 1.6 s): a \
                read timeout of what is left of that second, set before each recv_from"
                .into(),
            UdpLateReply => "a reply may come at any moment of the second: wait for it on the \
                socket (recv_from with a read timeout returns as soon as a datagram arrives) and \
                print it at once. A sleep followed by a look makes every reply late"
                .into(),
            UdpStrangerRestartsWait => {
                "a stranger's datagram ends a recv_from too: then wait only \
                for what is left of the try's second (a deadline taken once per try, and \
                `set_read_timeout(deadline - now)` before each recv_from), not a whole second \
                again, or a stranger who keeps sending keeps the program waiting for ever"
                    .into()
            }
            UdpRepliesIgnored => "the server replied, and the program sent the same datagram \
                again as if nothing had come: it did not take the server's reply for one. Compare \
                the sender's address (IP and port) with the address you sent to, in the same \
                form. A socket bound to [::] (IPv6) that talks to 127.0.0.1 receives the replies \
                from ::ffff:127.0.0.1, an IPv4-mapped IPv6 address that never equals 127.0.0.1: \
                bind 0.0.0.0 for an IPv4 server (the server's family), or compare \
                `from.ip().to_canonical()`"
                .into(),
            UdpTimeoutIsError => "`Resource temporarily unavailable (os error 11)` is what an \
                expired read timeout looks like (EAGAIN; `ErrorKind::WouldBlock`, or `TimedOut`): \
                it means \"no reply this time\", not an error. Send the datagram again (3 tries \
                in all), and only then give up, with your own message"
                .into(),
            UdpNewlineSent => "the server received the line with its newline: a datagram \
                carries exactly the bytes you give it, and one datagram is one line already. Send \
                the line without its newline"
                .into(),
            UdpNoTimeout => "a lost datagram never arrives, so a plain recv_from waits forever. \
                Set a read timeout (`set_read_timeout(Some(1 s))`) and treat WouldBlock/TimedOut \
                as \"no reply this time\""
                .into(),
            UdpFixedPort => "bind the client's socket to port 0, so the system picks a free \
                ephemeral port: a fixed port fails as soon as two clients run at once, or another \
                program holds it"
                .into(),
            UdpAcceptsStrangers => "anyone can send a datagram to your port. recv_from tells you \
                who sent it: ignore every datagram whose sender is not the server's address (or \
                connect the UDP socket, so the kernel filters for you)"
                .into(),
            UdpTruncated => "a datagram longer than your buffer is cut, and the rest is lost. \
                Receive into a buffer of 65536 bytes, the most one UDP datagram can carry"
                .into(),
            UdpManySockets => "use one socket for the whole conversation: the server answers the \
                address (and port) each datagram came from"
                .into(),
            TcpOneReadOneMessage => "TCP is a byte stream: one read may return part of a reply \
                line, or several. Read until the newline (e.g. BufReader::read_line), never take \
                one read as one message"
                .into(),
            TcpConnectionPerLine { .. } => "connect once and send every line over that one connection: \
                the server keeps one conversation per connection"
                .into(),
            TcpNoHalfClose { .. } => "at the end of input, shut down the sending side \
                (`stream.shutdown(Shutdown::Write)`): that is how the server learns there is \
                nothing more to come, and only then does it send its last lines and close"
                .into(),
            TcpReset { .. } => "the server read a reset (RST), not an end of stream: the connection was \
                aborted, and whatever was still on its way in either direction is lost. That is \
                what closing with SO_LINGER set to 0 does (or closing with unread bytes in the \
                receive buffer). At the end of input, half-close (`shutdown(Shutdown::Write)`), \
                read until the server closes, then let the stream be dropped"
                .into(),
            DaemonEpermMeansAlive => "kill(pid, 0) failing with EPERM means the process \
                exists but is not yours to signal; only ESRCH means \"no such process\". A shell's \
                `kill -0` hides the difference: look at the errno"
                .into(),
            DaemonConnectProvesNothing => "a connection that succeeds proves only that something \
                listens on the port, not that it is the pid file's process: find the LISTEN socket \
                of the port in /proc/net/tcp and tcp6 and look for `socket:[INODE]` among the \
                links in /proc/PID/fd"
                .into(),
            DaemonAliveIsNotListening => "a live process is not yet a running daemon: connect to \
                127.0.0.1:PORT, and say `not listening` when the connection is refused"
                .into(),
            DaemonProbeLeftOpen => "the verdict was right, but the program kept its probe \
                connection open and did not end: close the connection as soon as it is made, send \
                nothing, wait for nothing, and exit"
                .into(),
            DaemonProbeReset => "the probe connection ended with a reset: close it in order \
                (shutdown, then drop, with nothing unread and no SO_LINGER 0), so that the daemon \
                reads an end of stream"
                .into(),
            DaemonWrongVerdict => "the verdict is not the one this situation calls for: take the \
                steps in order (the file, the process, the port, the owner of the port) and print \
                exactly one of the contract's lines"
                .into(),
            DaemonNoProbe => "no probe connection was made: a process and a LISTEN socket in \
                /proc prove only that something could accept, not that it does. Connect to \
                127.0.0.1:PORT (and close at once) before you say `running`"
                .into(),
            DaemonProbeSentData => "the probe connection sent bytes to the daemon: a status \
                check sends nothing (a daemon may take them for a request, or for garbage, and \
                log or answer it). Connect, then close at once: the connection is the proof"
                .into(),
            DaemonConnectNoTimeout => "the program hung in connect: when the listener's backlog \
                is full, the kernel drops the SYN and a plain `connect` retries for about two \
                minutes. Use `TcpStream::connect_timeout` with what is left of the 2 s, and say \
                `not listening` when it runs out"
                .into(),
            DaemonGuessedOwner => "the daemon's descriptors (/proc/PID/fd) could not be read, so \
                nothing proves who holds the port: that is a failure of the check, not a \
                verdict. Print no verdict; say why in one line on standard error and exit 1"
                .into(),
            DaemonMalformedAccepted => "a pid file that is not exactly `PID;PORT` is malformed \
                (the cases above say what is wrong with each): split at `;` into exactly two \
                parts, digits only, a pid from 1 that fits an i32, a port from 1 to 65535, and \
                say `malformed pid file` for anything else, before any kill or connect"
                .into(),
            TcpLeftEarly { .. } => "after the half-close, keep reading and printing until read returns 0 \
                (the server closed): the server sends its last lines only after it has seen your \
                end of input"
                .into(),
            DescriptorLeak { .. } => "the program's count of open descriptors grew with its \
                input: something it opens for each line (a socket, a clone of one, a file) is \
                never closed. A long-running program runs out of descriptors that way; keep one \
                connection and let what you open per line be dropped"
                .into(),
            SocketsHeld { .. } => "while it waits for a reply, the program should hold exactly \
                one socket: its TCP connection to the server's port (for UDP, its one UDP \
                socket). Look at the table above (as \
                `ss -tanp` or `lsof -p PID` would show it) for the ones that should not be there"
                .into(),
            Uninspectable { .. } => "the grader must see the program's descriptors in \
                /proc/PID/fd, as `ss -p` and `lsof` do, and it could not: the program made itself \
                not dumpable (prctl(PR_SET_DUMPABLE, 0)) or changed its user. Leave both out: \
                the contract is about sockets the grader can see"
                .into(),
            FramedOneReadOneFrame => "one read is not one frame: a frame may arrive a byte at a \
                time, in pieces, or glued to the next one. Read exactly 4 bytes of length, then \
                exactly that many bytes (`read_exact`, or a loop), and keep what came after"
                .into(),
            FramedByteOrder => "the length is 4 bytes in network byte order (big-endian, most \
                significant byte first): `u32::to_be_bytes` and `u32::from_be_bytes`; the \
                server read a length that made no sense"
                .into(),
            FramedNoLimit => "a peer can announce any length up to 4 GiB: check the length \
                against the limit (16 MiB) before you allocate or wait for that many bytes, and \
                fail at once with one line on standard error"
                .into(),
            FramedPrintedBrokenFrame => "when the connection closes inside a frame, that frame \
                is broken: print nothing of it, say so on standard error and exit 1. Print a \
                payload only once all of it has arrived"
                .into(),
            EchoOneAtATime => "the server serves one client at a time: while one is connected \
                (or stalls half-way through a line), every other client waits. Hand each \
                accepted connection to a thread of its own (or a child process, or serve them \
                all from one poll loop) and go straight back to accept"
                .into(),
            EchoWaitsForEnd => "the server echoes nothing until the client's end of input. \
                Send each line back as soon as its newline has arrived: a client that waits for \
                the echo of its first line before sending the second would wait forever"
                .into(),
            EchoNeverCloses => "when a client half-closes (read returns 0), send back what is \
                left and close the connection: drop every handle on the socket (clones \
                included), since the kernel closes it only with its last descriptor. Until \
                then the client never sees the end, and `ss` shows the socket in CLOSE-WAIT"
                .into(),
            EchoLeaksDescriptors => "the server keeps a descriptor for every client that has \
                gone: its descriptor count grows with each connection until accept fails with \
                \"Too many open files\". Make sure everything opened for a client (the stream, \
                its clones, anything else) is dropped when that client is done"
                .into(),
            EchoDiesOnReset => "a client that resets its connection (or vanishes) makes read or \
                write fail: that is an error for that one client, never for the server. Report \
                it, forget the client, and keep serving the others"
                .into(),
            EchoMixedUp => "every line must go back to the client that sent it, exactly as it \
                was sent (newline included), and only once: keep one reader and one writer per \
                connection, and never share a buffer between clients"
                .into(),
            EchoFirstLine => "the first line on standard output must be `listening on \
                127.0.0.1:PORT`, with the real port (with `--port 0` the one the system picked, \
                from `local_addr()`), printed and flushed before the first client comes"
                .into(),
            EchoLineNotFlushed => "the server listens, but its `listening on` line never \
                reached standard output, so whoever started it cannot know where to connect. \
                It is still in a buffer (a `BufWriter` around stdout, or `print!` without a \
                newline): call `flush()` on standard output right after writing it. It must be \
                the first line of standard output, not of standard error"
                .into(),
            EchoListensBeyondLoopback => "the server listens on more than loopback: 0.0.0.0 \
                (or ::) is every address of the machine, so anyone who can reach it over the \
                network can connect. Bind 127.0.0.1, as the contract says; the socket table \
                (`ss -tlnp`) shows the address a server really listens on, whatever it prints"
                .into(),
            EchoStopsServing => "the server exited while there were clients to serve. A server \
                runs until it is stopped: accept in a loop that never ends (no `take(N)`, no \
                `return` when a client is done), and let what goes wrong with one client end \
                that client's thread (or child), never the process"
                .into(),
            EchoAltersLines => "the echo is not byte for byte what the client sent. \
                `BufRead::lines()` takes the newline off (and a `\\r` before it), and `writeln!` \
                puts one back even where there was none, such as after the last piece a client \
                sends before it half-closes. Read with `read_until(b'\\n', ...)` and write back \
                exactly the bytes read"
                .into(),
            EchoChildrenLeft => "the server kept a process for clients that had gone. A child \
                that has served its client must exit, and the parent must wait for it \
                (`waitpid`, with `WNOHANG` in its loop, or on `SIGCHLD`): until then it stays a \
                zombie (state Z in `ps`, `<defunct>`), one per client served, until `fork` fails"
                .into(),
            SockstatIpv4Only => "the IPv6 sockets are missing: they are in other tables, \
                /proc/PID/net/tcp6 and udp6 (an IPv6 socket talking to an IPv4 address too, as \
                ::ffff:127.0.0.1). Read all four tables: tcp, tcp6, udp and udp6"
                .into(),
            SockstatByteOrder => "an address or a port is read in the wrong byte order. The \
                port is a plain hexadecimal number (`1F90` is 8080). The address is printed as \
                32-bit words in this machine's byte order: parse each 8-digit word as a u32 and \
                take its bytes with `to_ne_bytes` (`0100007F` is 127.0.0.1)"
                .into(),
            SockstatIpv6WordOrder => "the IPv6 addresses have their four 32-bit words in the \
                wrong order: only the bytes inside each word are in the machine's order, the \
                words themselves come first to last. Do not reverse the whole 32 digits (or the \
                whole u128): turn each 8-digit word into its 4 bytes, and keep the words in order"
                .into(),
            SockstatNotOwnSockets => "the table lists sockets that are not the process's: \
                /proc/PID/net/tcp shows every socket of the network namespace, whoever holds it. \
                Start from the process's descriptors, /proc/PID/fd, keep the links that read \
                `socket:[INODE]`, and print only the table lines with those inodes"
                .into(),
            SockstatStateNames => "a state is named wrong. The `st` column is hexadecimal and \
                numbered from 1: 01 ESTAB, 02 SYN-SENT, 03 SYN-RECV, 04 FIN-WAIT-1, 05 \
                FIN-WAIT-2, 06 TIME-WAIT, 07 UNCONN, 08 CLOSE-WAIT, 09 LAST-ACK, 0A LISTEN, 0B \
                CLOSING (the names `ss` prints)"
                .into(),
            SockstatNoUdp => "the UDP sockets are missing: they are in /proc/PID/net/udp and \
                udp6, with the same columns as the TCP tables (state 07, UNCONN, for a socket \
                that is not connected; 01, ESTAB, for a connected one)"
                .into(),
            SockstatOtherNamespace => "the process's sockets are missing: it lives in a network \
                namespace of its own, and /proc/net/tcp (like /proc/self/net/tcp) is the table of \
                the namespace of the program that reads it. Read the process's own tables, \
                /proc/PID/net/tcp, tcp6, udp and udp6"
                .into(),
            SockstatTableDiffers => "the table is not the grader's reading of /proc: compare the \
                two above, from the first line that differs. One line per socket descriptor (two \
                descriptors of one socket are two lines), sorted by descriptor number, five \
                columns separated by single spaces"
                .into(),
        }
    }
}
