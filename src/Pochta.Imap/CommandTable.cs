using System.Collections.Frozen;

using Pochta.Imap.Handlers;

namespace Pochta.Imap;

/// <summary>The session states of RFC 9051 §3 as flags, for the command table.</summary>
[Flags]
internal enum SessionStates
{
    None = 0,
    NotAuthenticated = 1,
    Authenticated = 2,
    Selected = 4,
    Logout = 8,
    AnyAuthenticated = Authenticated | Selected,
    Any = NotAuthenticated | Authenticated | Selected,
}

/// <param name="Allowed">States in which the command is legal; elsewhere it gets BAD.</param>
/// <param name="MayExpunge">Whether EXPUNGE/VANISHED responses for other sessions' expunges may be
/// sent while this command runs (RFC 9051 §7.5.1: never during FETCH, STORE, SEARCH, nor during
/// the other commands that take message sequence numbers, so numbers stay unambiguous).</param>
internal sealed record CommandSpec(SessionStates Allowed, bool MayExpunge, ICommandHandler Handler);

/// <summary>THE command table: the one place that says which states allow each command
/// (RFC 9051 §6) and whether it may send EXPUNGE responses. Keys are <c>ImapCommand.Name</c>.</summary>
internal static class CommandTable
{
    private const SessionStates Any = SessionStates.Any;
    private const SessionStates NotAuth = SessionStates.NotAuthenticated;
    private const SessionStates Auth = SessionStates.AnyAuthenticated;
    private const SessionStates AuthOnly = SessionStates.Authenticated;
    private const SessionStates Selected = SessionStates.Selected;

    public static FrozenDictionary<string, CommandSpec> Commands { get; } = new Dictionary<string, CommandSpec>
    {
        // RFC 9051 §6.1: any state.
        ["CAPABILITY"] = new(Any, true, new CapabilityHandler()),
        ["NOOP"] = new(Any, true, new NoopHandler()),
        ["LOGOUT"] = new(Any, true, new LogoutHandler()),
        ["ID"] = new(Any, true, new IdHandler()),

        // RFC 9051 §6.2: not authenticated.
        ["STARTTLS"] = new(NotAuth, false, new StartTlsHandler()),
        ["LOGIN"] = new(NotAuth, false, new LoginHandler()),
        ["AUTHENTICATE"] = new(NotAuth, false, new AuthenticateHandler()),

        // RFC 9051 §6.3: authenticated (and selected).
        ["ENABLE"] = new(AuthOnly, false, new EnableHandler()),
        ["NAMESPACE"] = new(Auth, true, new NamespaceHandler()),
        ["SELECT"] = new(Auth, false, new SelectHandler()),
        ["EXAMINE"] = new(Auth, false, new SelectHandler()),
        ["CREATE"] = new(Auth, true, new CreateHandler()),
        ["DELETE"] = new(Auth, true, new DeleteHandler()),
        ["RENAME"] = new(Auth, true, new RenameHandler()),
        ["SUBSCRIBE"] = new(Auth, true, new SubscribeHandler()),
        ["UNSUBSCRIBE"] = new(Auth, true, new SubscribeHandler()),
        ["LIST"] = new(Auth, true, new ListHandler()),
        ["LSUB"] = new(Auth, true, new ListHandler()),
        ["STATUS"] = new(Auth, true, new StatusHandler()),
        ["APPEND"] = new(Auth, true, new AppendHandler()),
        ["IDLE"] = new(Auth, true, new IdleHandler()),
        ["UNAUTHENTICATE"] = new(Auth, false, new UnauthenticateHandler()),
        ["COMPRESS"] = new(Auth, false, new CompressHandler()),
        ["GETQUOTA"] = new(Auth, true, new GetQuotaHandler()),
        ["GETQUOTAROOT"] = new(Auth, true, new GetQuotaRootHandler()),
        ["SETQUOTA"] = new(Auth, true, new SetQuotaHandler()),

        // RFC 9051 §6.4: selected.
        ["CHECK"] = new(Selected, true, new NoopHandler()),
        ["CLOSE"] = new(Selected, false, new CloseHandler()),
        ["UNSELECT"] = new(Selected, false, new CloseHandler()),
        ["EXPUNGE"] = new(Selected, true, new ExpungeHandler()),
        ["UID EXPUNGE"] = new(Selected, true, new ExpungeHandler()),
        ["SEARCH"] = new(Selected, false, new SearchHandler()),
        ["UID SEARCH"] = new(Selected, true, new SearchHandler()),
        ["FETCH"] = new(Selected, false, new FetchHandler()),
        ["UID FETCH"] = new(Selected, true, new FetchHandler()),
        ["STORE"] = new(Selected, false, new StoreHandler()),
        ["UID STORE"] = new(Selected, true, new StoreHandler()),
        ["COPY"] = new(Selected, false, new CopyHandler()),
        ["UID COPY"] = new(Selected, true, new CopyHandler()),
        ["MOVE"] = new(Selected, false, new CopyHandler()),
        ["UID MOVE"] = new(Selected, true, new CopyHandler()),
        ["SORT"] = new(Selected, false, new SortHandler()),
        ["UID SORT"] = new(Selected, true, new SortHandler()),
        ["THREAD"] = new(Selected, false, new ThreadHandler()),
        ["UID THREAD"] = new(Selected, true, new ThreadHandler()),
    }.ToFrozenDictionary(StringComparer.Ordinal);
}