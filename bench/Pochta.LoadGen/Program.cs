using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;

using Pochta.LoadGen.Common;
using Pochta.LoadGen.Imap;
using Pochta.LoadGen.Pop3;
using Pochta.LoadGen.Smtp;
using Pochta.LoadGen.Wire;

// pochta-loadgen: SMTP, IMAP and POP3 load against any server. Loopback or your own test hosts only.
var root = new RootCommand("Pochta load generator: SMTP, IMAP and POP3 load against any server (one-line summary, or --json).");

Option<string> Host() => new("--host") { Description = "Server address", DefaultValueFactory = _ => "127.0.0.1" };
Option<int> Port(int d) => new("--port") { Description = "Server port", DefaultValueFactory = _ => d };
Option<bool> Json() => new("--json") { Description = "Print the summary as one JSON object" };
Option<bool> ImplicitTls() => new("--tls-implicit") { Description = "TLS from the first byte (465/993/995)" };
Option<string?> CaFile() => new("--ca-file") { Description = "PEM certificate(s) to trust for TLS (the test server's self-signed certificate)" };
Option<string> Password() => new("--password") { Description = "Password for every account", DefaultValueFactory = _ => "bench" };
Option<string> UserPattern() => new("--user-pattern") { Description = "Login pattern, {n} = user index", DefaultValueFactory = _ => "u{n}@bench.test" };
Option<int> Users(int d) => new("--users") { Description = "Number of accounts ({n} = 0..users-1)", DefaultValueFactory = _ => d };
Option<int> FirstUser() => new("--first-user") { Description = "First {n}", DefaultValueFactory = _ => 0 };
Option<string> Duration(string d) => new("--duration") { Description = "Run time, e.g. 30s, 2m", DefaultValueFactory = _ => d };
Option<string> Hold() => new("--hold") { Description = "How long to hold the connections, e.g. 10s", DefaultValueFactory = _ => "10s" };
Option<int?> ServerPid() => new("--server-pid") { Description = "Server's root PID: its process tree's RSS/PSS is read from /proc before and during" };
Option<int> ParallelOpt(int d) => new("--parallel") { Description = "Connections opened at once", DefaultValueFactory = _ => d };

static Endpoint MakeEndpoint(string host, int port, bool implicitTls, string? caFile)
{
    X509Certificate2Collection? trusted = null;
    if (caFile is not null)
    {
        trusted = [];
        trusted.ImportFromPemFile(caFile);
    }

    return new Endpoint(host, port, implicitTls, trusted);
}

static TimeSpan ParseDuration(string text)
{
    char unit = text[^1];
    double value = double.Parse(char.IsAsciiDigit(unit) ? text : text[..^1], CultureInfo.InvariantCulture);
    return unit switch
    {
        'm' => TimeSpan.FromMinutes(value),
        'h' => TimeSpan.FromHours(value),
        _ => TimeSpan.FromSeconds(value),
    };
}

// smtp
{
    var host = Host(); var port = Port(25); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var sessions = new Option<int>("--sessions") { Description = "Concurrent sessions", DefaultValueFactory = _ => 1 };
    var messages = new Option<int>("--messages") { Description = "Messages in total, shared by the sessions", DefaultValueFactory = _ => 1000 };
    var size = new Option<string>("--size") { Description = "Message size, e.g. 5k", DefaultValueFactory = _ => "5k" };
    var tls = new Option<bool>("--tls") { Description = "STARTTLS before sending (RFC 3207)" };
    var user = new Option<string?>("--user") { Description = "AUTH PLAIN user (submission)" };
    var password = new Option<string?>("--password") { Description = "AUTH PLAIN password" };
    var from = new Option<string>("--from") { Description = "Envelope sender", DefaultValueFactory = _ => "loadgen@sender.test" };
    var to = new Option<string>("--to") { Description = "Recipient pattern, {n} = 0..rcpt-count-1", DefaultValueFactory = _ => "u{n}@bench.test" };
    var rcptCount = new Option<int>("--rcpt-count") { Description = "Distinct recipients, used round-robin", DefaultValueFactory = _ => 1 };
    var waitMaildir = new Option<string?>("--wait-maildir") { Description = "Also wait until this Maildir tree holds every accepted message" };
    var waitImapPort = new Option<int?>("--wait-imap-port") { Description = "Also wait until the recipients' INBOXes (IMAP STATUS, login = recipient address) hold every accepted message" };
    var waitPassword = new Option<string>("--wait-password") { Description = "Password of the recipients' accounts for --wait-imap-port", DefaultValueFactory = _ => "bench" };
    var timeout = new Option<string>("--timeout") { Description = "Give up after", DefaultValueFactory = _ => "10m" };
    var cmd = new Command("smtp", "Send M messages over N concurrent SMTP sessions: messages/s, latency percentiles")
    {
        host, port, sessions, messages, size, tls, tlsImplicit, ca, user, password, from, to, rcptCount, waitMaildir, waitImapPort, waitPassword, timeout, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        DeliveryWait? wait = r.GetValue(waitMaildir) is { } dir ? new MaildirWait(dir)
            : r.GetValue(waitImapPort) is { } ip ? new ImapWait(endpoint with { Port = ip, ImplicitTls = false }, r.GetValue(to)!, r.GetValue(rcptCount), r.GetValue(waitPassword)!)
            : null;
        var summary = await SmtpLoad.RunAsync(new SmtpLoadOptions(
            endpoint, r.GetValue(sessions), r.GetValue(messages), MessageFactory.ParseSize(r.GetValue(size)!), r.GetValue(tls),
            r.GetValue(user), r.GetValue(password), r.GetValue(from)!, r.GetValue(to)!, r.GetValue(rcptCount), wait,
            ParseDuration(r.GetValue(timeout)!)), ct);
        if (wait is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

root.Subcommands.Add(RelayCommand.Create());

// smtp-idle
{
    var host = Host(); var port = Port(25); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile(); var hold = Hold(); var pid = ServerPid(); var parallel = ParallelOpt(50);
    var connections = new Option<int>("--connections") { Description = "Idle connections to hold", DefaultValueFactory = _ => 1000 };
    var cmd = new Command("smtp-idle", "Open and hold idle SMTP connections (after EHLO) for resident-memory measurement")
    {
        host, port, connections, hold, pid, parallel, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await SmtpIdle.RunAsync(endpoint, r.GetValue(connections), ParseDuration(r.GetValue(hold)!), r.GetValue(pid), r.GetValue(parallel), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// imap
{
    var host = Host(); var port = Port(143); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var pattern = UserPattern(); var users = Users(20); var password = Password(); var duration = Duration("30s");
    var clients = new Option<int>("--clients") { Description = "Concurrent clients (client i logs in as user i mod users)", DefaultValueFactory = _ => 20 };
    var rounds = new Option<int>("--rounds") { Description = "Fetch/store/search rounds per session before APPEND, EXPUNGE, LOGOUT", DefaultValueFactory = _ => 5 };
    var size = new Option<string>("--append-size") { Description = "Size of the appended message", DefaultValueFactory = _ => "5k" };
    var cmd = new Command("imap", "Realistic IMAP mix (login, select, fetch headers and bodies, store, search, append, expunge, logout): commands/s")
    {
        host, port, clients, duration, pattern, users, password, rounds, size, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await ImapLoad.RunAsync(new ImapLoadOptions(
            endpoint, r.GetValue(clients), ParseDuration(r.GetValue(duration)!), r.GetValue(pattern)!, r.GetValue(users), r.GetValue(password)!,
            r.GetValue(rounds), MessageFactory.ParseSize(r.GetValue(size)!)), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// imap-idle
{
    var host = Host(); var port = Port(143); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var pattern = UserPattern(); var users = Users(20); var password = Password(); var hold = Hold(); var pid = ServerPid(); var parallel = ParallelOpt(50);
    var connections = new Option<int>("--connections") { Description = "IDLE connections to hold", DefaultValueFactory = _ => 1000 };
    var cmd = new Command("imap-idle", "Open N IMAP connections in IDLE (LOGIN, SELECT INBOX, IDLE) and hold them for resident-memory measurement")
    {
        host, port, connections, pattern, users, password, hold, pid, parallel, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await ImapIdle.RunAsync(endpoint, r.GetValue(connections), r.GetValue(pattern)!, r.GetValue(users), r.GetValue(password)!,
            ParseDuration(r.GetValue(hold)!), r.GetValue(pid), r.GetValue(parallel), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// pop3
{
    var host = Host(); var port = Port(110); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var pattern = UserPattern(); var users = Users(10); var first = FirstUser(); var password = Password();
    var clients = new Option<int>("--clients") { Description = "Concurrent clients; they share the maildrops", DefaultValueFactory = _ => 1 };
    var timeout = new Option<string>("--timeout") { Description = "Give up after", DefaultValueFactory = _ => "10m" };
    var listOnly = new Option<bool>("--list-only") { Description = "Only STAT and LIST each maildrop (warm-up; deletes nothing)" };
    var cmd = new Command("pop3", "Download and delete every message of the maildrops (RETR + DELE, QUIT): messages/s, MB/s")
    {
        host, port, clients, pattern, users, first, password, timeout, listOnly, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await Pop3Load.RunAsync(endpoint, r.GetValue(clients), r.GetValue(pattern)!, r.GetValue(users), r.GetValue(first), r.GetValue(password)!,
            ParseDuration(r.GetValue(timeout)!), r.GetValue(listOnly), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// imap-probe
{
    var host = Host(); var port = Port(143); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile(); var password = Password();
    var user = new Option<string>("--user") { Description = "Account whose mailbox is probed", DefaultValueFactory = _ => "big0@bench.test" };
    var mailbox = new Option<string>("--mailbox") { Description = "Mailbox to probe", DefaultValueFactory = _ => "INBOX" };
    var text = new Option<string>("--search-text") { Description = "SEARCH TEXT argument", DefaultValueFactory = _ => "invoice" };
    var repeat = new Option<int>("--repeat") { Description = "Repetitions", DefaultValueFactory = _ => 5 };
    var cmd = new Command("imap-probe", "Latency of SELECT, UID FETCH 1:* (FLAGS) and SEARCH TEXT on one mailbox")
    {
        host, port, user, password, mailbox, text, repeat, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await ImapProbe.RunAsync(endpoint, r.GetValue(user)!, r.GetValue(password)!, r.GetValue(mailbox)!, r.GetValue(text)!, r.GetValue(repeat), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// seed
{
    var host = Host(); var port = Port(143); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var pattern = UserPattern(); var users = Users(20); var first = FirstUser(); var password = Password(); var parallel = ParallelOpt(4);
    var perUser = new Option<int>("--messages") { Description = "Messages per user", DefaultValueFactory = _ => 1000 };
    var maildir = new Option<string?>("--maildir-root") { Description = "Write the messages as files under ROOT/domain/local/Maildir instead of APPENDing them (Maildir servers)" };
    var window = new Option<int>("--window") { Description = "APPENDs in flight per connection (pipelined with LITERAL+)", DefaultValueFactory = _ => 16 };
    var size = new Option<string>("--size") { Description = "Message size (e.g. 5k) or 'mixed' (70% 1-10 KB, 25% 10-100 KB, 5% 100-500 KB)", DefaultValueFactory = _ => "mixed" };
    var cmd = new Command("seed", "Fill the users' INBOXes with deterministic messages through IMAP APPEND")
    {
        host, port, pattern, users, first, password, perUser, size, parallel, window, maildir, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        if (r.GetValue(maildir) is { } mroot)
        {
            ImapSeed.WriteMaildir(mroot, r.GetValue(pattern)!, r.GetValue(users), r.GetValue(first), r.GetValue(perUser), r.GetValue(size)!).Print(r.GetValue(json));
            return 0;
        }

        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        var summary = await ImapSeed.RunAsync(endpoint, r.GetValue(pattern)!, r.GetValue(users), r.GetValue(first), r.GetValue(password)!,
            r.GetValue(perUser), r.GetValue(size)!, r.GetValue(parallel), r.GetValue(window), ct);
        summary.Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

// count
{
    var host = Host(); var port = Port(143); var json = Json(); var tlsImplicit = ImplicitTls(); var ca = CaFile();
    var pattern = UserPattern(); var users = Users(20); var first = FirstUser(); var password = Password();
    var cmd = new Command("count", "Sum of the users' INBOX message counts (IMAP STATUS)")
    {
        host, port, pattern, users, first, password, tlsImplicit, ca, json,
    };
    cmd.SetAction(async (r, ct) =>
    {
        var endpoint = MakeEndpoint(r.GetValue(host)!, r.GetValue(port), r.GetValue(tlsImplicit), r.GetValue(ca));
        long n = await ImapSeed.CountAsync(endpoint, r.GetValue(pattern)!, r.GetValue(users), r.GetValue(first), r.GetValue(password)!, ct);
        new Summary("count").Add("server", $"{endpoint.Host}:{endpoint.Port}").Add("messages", n).Print(r.GetValue(json));
        return 0;
    });
    root.Subcommands.Add(cmd);
}

return await root.Parse(args).InvokeAsync();