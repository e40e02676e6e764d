using System.Collections.Frozen;

using Pochta.Pop3.Handlers;
using Pochta.Pop3.Protocol;

namespace Pochta.Pop3;

/// <summary>A command's legal states and its handler.</summary>
internal sealed record Pop3CommandEntry(bool InAuthorization, bool InTransaction, IPop3CommandHandler Handler)
{
    public bool AllowedIn(Pop3State state) => state switch
    {
        Pop3State.Authorization => InAuthorization,
        Pop3State.Transaction => InTransaction,
        _ => false,
    };
}

/// <summary>One handler per command.</summary>
internal interface IPop3CommandHandler
{
    Task HandleAsync(Pop3Session session, Pop3Command command, CancellationToken cancellationToken);
}

/// <summary>
/// THE legality table: which RFC 1939 state allows each command. AUTHORIZATION: USER, PASS, APOP,
/// AUTH (RFC 5034), STLS (RFC 2595 §4), UTF8 (RFC 6856 §2), CAPA and QUIT. TRANSACTION: STAT, LIST,
/// RETR, DELE, NOOP, RSET, TOP, UIDL, CAPA (RFC 2449 §5 allows it in both) and QUIT. Nothing is
/// accepted in UPDATE (the session ends there).
/// </summary>
internal static class Pop3CommandTable
{
    private static readonly FrozenDictionary<Pop3CommandKind, Pop3CommandEntry> Entries = new Dictionary<Pop3CommandKind, Pop3CommandEntry>
    {
        [Pop3CommandKind.User] = new(InAuthorization: true, InTransaction: false, new UserHandler()),
        [Pop3CommandKind.Pass] = new(InAuthorization: true, InTransaction: false, new PassHandler()),
        [Pop3CommandKind.Apop] = new(InAuthorization: true, InTransaction: false, new ApopHandler()),
        [Pop3CommandKind.Auth] = new(InAuthorization: true, InTransaction: false, new AuthHandler()),
        [Pop3CommandKind.Stls] = new(InAuthorization: true, InTransaction: false, new StlsHandler()),
        [Pop3CommandKind.Utf8] = new(InAuthorization: true, InTransaction: false, new Utf8Handler()),
        [Pop3CommandKind.Capa] = new(InAuthorization: true, InTransaction: true, new CapaHandler()),
        [Pop3CommandKind.Quit] = new(InAuthorization: true, InTransaction: true, new QuitHandler()),
        [Pop3CommandKind.Stat] = new(InAuthorization: false, InTransaction: true, new StatHandler()),
        [Pop3CommandKind.List] = new(InAuthorization: false, InTransaction: true, new ListHandler()),
        [Pop3CommandKind.Retr] = new(InAuthorization: false, InTransaction: true, new RetrHandler()),
        [Pop3CommandKind.Dele] = new(InAuthorization: false, InTransaction: true, new DeleHandler()),
        [Pop3CommandKind.Noop] = new(InAuthorization: false, InTransaction: true, new NoopHandler()),
        [Pop3CommandKind.Rset] = new(InAuthorization: false, InTransaction: true, new RsetHandler()),
        [Pop3CommandKind.Top] = new(InAuthorization: false, InTransaction: true, new TopHandler()),
        [Pop3CommandKind.Uidl] = new(InAuthorization: false, InTransaction: true, new UidlHandler()),
    }.ToFrozenDictionary();

    public static Pop3CommandEntry Get(Pop3CommandKind kind) => Entries[kind];

    public static IReadOnlyDictionary<Pop3CommandKind, Pop3CommandEntry> All => Entries;
}