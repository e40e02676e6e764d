using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

using Microsoft.Extensions.DependencyInjection;

using Pochta.Core;
using Pochta.Sasl;
using Pochta.Storage;
using Pochta.Testing;

namespace Pochta.Interop.Tests;

/// <summary>One in-process Pochta server shared by a protocol's interop tests: its certificate
/// for clients that pin or verify it, accounts, seeded mail, and running Debian programs.</summary>
public abstract class InteropServerFixture(string userPrefix) : IAsyncLifetime
{
    private int _users;

    public PochtaTestServer Server { get; private set; } = null!;

    /// <summary>The server's (self-signed) certificate, PEM, for clients that verify against a file.</summary>
    public string CertificatePath => Path.Combine(Server.DataDirectory, "tls", "cert.pem");

    /// <summary>Lower-case hex SHA-256 of the certificate (DER), for clients that pin it.</summary>
    public string CertificateSha256 { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await PochtaTestServer.StartAsync();
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(CertificatePath));
        CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public bool IsServerCertificate(X509Certificate? certificate) =>
        certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == CertificateSha256;

    /// <summary>A new account with the default mailboxes, all empty.</summary>
    public async Task<string> NewUserAsync(string password)
    {
        var address = $"{userPrefix}{Interlocked.Increment(ref _users)}@example.test";
        var directory = Server.Store.Directory;
        if (await directory.FindDomainAsync("example.test", CancellationToken.None) is null)
        {
            try
            {
                await directory.AddDomainAsync("example.test", CancellationToken.None);
            }
            catch (StoreConflictException)
            {
                // Another test created it first.
            }
        }

        // Low PBKDF2 work keeps the many logins of these tests cheap on a shared CPU.
        await directory.AddAccountAsync(address, PasswordCredential.Create(password, 4096), 0, CancellationToken.None);
        return address;
    }

    /// <summary>Delivers messages into a mailbox through IMailStore.Messages (as local delivery does).</summary>
    public async Task DeliverToAsync(string address, string mailbox, IEnumerable<string> messages)
    {
        var store = Server.Store;
        var indexer = Server.Services.GetRequiredService<IMessageIndexer>();
        var account = (await store.Directory.FindAccountAsync(address, CancellationToken.None))!;
        var box = (await store.Mailboxes.FindMailboxAsync(account.Id, mailbox, CancellationToken.None))!;
        foreach (var message in messages)
        {
            await using var writer = store.Messages.CreateWriter();
            await writer.WriteAsync(Encoding.UTF8.GetBytes(message), CancellationToken.None);
            await using var staged = await writer.CompleteAsync(CancellationToken.None);
            byte[] index;
            await using (var read = staged.OpenRead())
            {
                index = await indexer.BuildIndexAsync(read, CancellationToken.None);
            }

            await store.Messages.CommitAsync(
                new DeliveryRequest(staged, index, "sender@example.net", [new LocalDelivery(box.Id, MessageFlags.None, [], DateTimeOffset.UtcNow)], [], null),
                CancellationToken.None);
        }
    }

    /// <summary>Runs a program to completion (bounded), returning exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, string workingDirectory, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(Tool.Find(program) ?? program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}