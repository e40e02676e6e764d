using System.Text;

using Pochta.Sasl;

namespace Pochta.Pop3.Tests.Session;

/// <summary>Stand-in for Pochta.Sasl's Authenticator until it lands on main: fixed accounts,
/// PLAIN only (secure connections), and a two-step X-FINAL mechanism with server-final data.</summary>
internal sealed class FakeAuthenticator(IReadOnlyDictionary<string, (long Id, string Password)> accounts) : IAuthenticator
{
    public IReadOnlyList<string> GetMechanisms(bool secure) => secure ? ["PLAIN", "X-FINAL"] : ["X-FINAL"];

    public ISaslServer? CreateServer(string mechanism, bool secure) => mechanism switch
    {
        "PLAIN" when secure => new Plain(this),
        "X-FINAL" => new Final(this),
        _ => null,
    };

    public Task<AuthenticatedUser?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken) =>
        Task.FromResult(accounts.TryGetValue(username, out var a) && a.Password == password ? new AuthenticatedUser(a.Id, username) : null);

    private sealed class Plain(FakeAuthenticator owner) : ISaslServer
    {
        public string Mechanism => "PLAIN";

        public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
        {
            if (clientMessage.IsEmpty)
            {
                return new SaslStep(SaslStepKind.Continue, ReadOnlyMemory<byte>.Empty, null);
            }

            var parts = Encoding.UTF8.GetString(clientMessage.Span).Split('\0');
            if (parts.Length != 3)
            {
                return new SaslStep(SaslStepKind.Malformed, default, null);
            }

            var user = await owner.VerifyPasswordAsync(parts[1], parts[2], cancellationToken);
            return user is null ? new SaslStep(SaslStepKind.Failure, default, null) : new SaslStep(SaslStepKind.Success, default, user);
        }
    }

    /// <summary>Client sends "user pass"; the server answers with success data "v=ok".</summary>
    private sealed class Final(FakeAuthenticator owner) : ISaslServer
    {
        public string Mechanism => "X-FINAL";

        public async ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientMessage, CancellationToken cancellationToken)
        {
            if (clientMessage.IsEmpty)
            {
                return new SaslStep(SaslStepKind.Continue, "ready"u8.ToArray(), null);
            }

            var parts = Encoding.UTF8.GetString(clientMessage.Span).Split(' ');
            var user = parts.Length == 2 ? await owner.VerifyPasswordAsync(parts[0], parts[1], cancellationToken) : null;
            return user is null ? new SaslStep(SaslStepKind.Failure, default, null) : new SaslStep(SaslStepKind.Success, "v=ok"u8.ToArray(), user);
        }
    }
}