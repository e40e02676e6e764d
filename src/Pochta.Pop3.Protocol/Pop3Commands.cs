namespace Pochta.Pop3.Protocol;

/// <summary>The POP3 commands Pochta understands (RFC 1939, RFC 2449, RFC 2595, RFC 5034, RFC 6856).</summary>
public enum Pop3CommandKind
{
    User,
    Pass,
    Apop,
    Auth,
    Stat,
    List,
    Retr,
    Dele,
    Noop,
    Rset,
    Top,
    Uidl,
    Quit,
    Capa,
    Stls,
    Utf8,
}

/// <summary>A parsed command line. Message numbers are 1-based as on the wire and already
/// range-checked (1..<see cref="int.MaxValue"/>); whether the message exists is the session's business.</summary>
public abstract record Pop3Command
{
    public abstract Pop3CommandKind Kind { get; }
}

/// <summary>A command without arguments: STAT, NOOP, RSET, QUIT, CAPA, STLS, UTF8.</summary>
public sealed record SimpleCommand(Pop3CommandKind CommandKind) : Pop3Command
{
    public override Pop3CommandKind Kind => CommandKind;
}

/// <summary>RFC 1939 §7 USER name.</summary>
public sealed record UserCommand(string Name) : Pop3Command
{
    public override Pop3CommandKind Kind => Pop3CommandKind.User;
}

/// <summary>RFC 1939 §7 PASS string: the rest of the line, spaces included.</summary>
public sealed record PassCommand(string Password) : Pop3Command
{
    public override Pop3CommandKind Kind => Pop3CommandKind.Pass;

    /// <summary>Never print the password (records include every member by default).</summary>
    public override string ToString() => "PassCommand { Password = *** }";
}

/// <summary>RFC 1939 §7 APOP name digest.</summary>
public sealed record ApopCommand(string Name, string Digest) : Pop3Command
{
    public override Pop3CommandKind Kind => Pop3CommandKind.Apop;

    public override string ToString() => "ApopCommand { *** }";
}

/// <summary>RFC 5034 §4 AUTH mechanism [initial-response]. <see cref="Mechanism"/> is upper-cased;
/// null when the client sent a bare <c>AUTH</c> (the pre-RFC 5034 mechanism listing).
/// <see cref="InitialResponse"/> is the base64 text as sent (<c>=</c> for an empty response), or null.</summary>
public sealed record AuthCommand(string? Mechanism, string? InitialResponse) : Pop3Command
{
    public override Pop3CommandKind Kind => Pop3CommandKind.Auth;

    public override string ToString() => $"AuthCommand {{ Mechanism = {Mechanism}, InitialResponse = {(InitialResponse is null ? "none" : "***")} }}";
}

/// <summary>LIST [msg] (RFC 1939 §5) or UIDL [msg] (RFC 1939 §7).</summary>
public sealed record ListingCommand(Pop3CommandKind CommandKind, int? Message) : Pop3Command
{
    public override Pop3CommandKind Kind => CommandKind;
}

/// <summary>RETR msg or DELE msg (RFC 1939 §5).</summary>
public sealed record MessageCommand(Pop3CommandKind CommandKind, int Message) : Pop3Command
{
    public override Pop3CommandKind Kind => CommandKind;
}

/// <summary>RFC 1939 §7 TOP msg n.</summary>
public sealed record TopCommand(int Message, int Lines) : Pop3Command
{
    public override Pop3CommandKind Kind => Pop3CommandKind.Top;
}