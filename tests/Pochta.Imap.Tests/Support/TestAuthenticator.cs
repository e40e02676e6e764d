using System.Text;

using Pochta.Sasl;

namespace Pochta.Imap.Tests.Support;

/// <summary>A directory of test users with PLAIN and LOGIN mechanisms (the real ones live in Pochta.Sasl).</summary>
internal sealed class TestAuthenticator : IAuthenticator
{
    private readonly Dictionary<string, (string Password, AuthenticatedUser User)> _users = new(StringComparer.OrdinalIgnoreCase);

    public void Add(string address, string password, long accountId) => _users[address] = (password, new AuthenticatedUser(accountId, address));

    public IReadOnlyList<string> GetMechanisms(bool secure) => secure ? ["PLAIN", "LOGIN"] : [];

    public ISaslServer? CreateServer(string mechanism, bool secure) =>
        secure && string.Equals(mechanism, "PLAIN", StringComparison.OrdinalIgnoreCase) ? new Plain(this) : null;

    public Task<AuthenticatedUser?> VerifyPasswordAsync(string username, string password, CancellationToken cancellationToken) =>
        Task.FromResult(_users.TryGetValue(username, out var u) && u.Password == password ? u.User : null);

    private sealed class Plain(TestAuthenticator owner) : ISaslServer
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
                return new SaslStep(SaslStepKind.Malformed, ReadOnlyMemory<byte>.Empty, null);
            }

            var user = await owner.VerifyPasswordAsync(parts[1], parts[2], cancellationToken);
            return user is null
                ? new SaslStep(SaslStepKind.Failure, ReadOnlyMemory<byte>.Empty, null)
                : new SaslStep(SaslStepKind.Success, ReadOnlyMemory<byte>.Empty, user);
        }
    }
}
