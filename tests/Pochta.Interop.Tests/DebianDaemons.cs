using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

using Pochta.Testing;

// Postfix, Dovecot and the Maildir modes below exist only on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Pochta.Interop.Tests;

/// <summary>A Debian program test that also needs root (Postfix and Dovecot start their
/// masters as root and drop privileges); skipped otherwise, like <see cref="RequiresToolFactAttribute"/>.</summary>
public sealed class RequiresToolAsRootFactAttribute : FactAttribute
{
    public RequiresToolAsRootFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !Tool.Exists(t)).ToArray();
        if (missing.Length > 0)
        {
            Skip = "not installed: " + string.Join(", ", missing) + " (CI installs it; see .ci/run)";
        }
        else if (!DebianDaemons.IsRoot)
        {
            Skip = "needs root (Postfix and Dovecot masters start as root; CI runs tests as root)";
        }
    }
}

/// <summary>Helpers for the private Debian daemons the interop tests start: free loopback
/// ports, waiting for a listener, scratch directories, a test certificate, and a long-running
/// child process stopped with SIGTERM (then SIGKILL) on dispose.</summary>
internal static class DebianDaemons
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>An ephemeral loopback port that was free a moment ago (the daemon binds it next).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:port.</summary>
    public static async Task WaitForPortAsync(int port, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var client = new TcpClient();
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {timeout}: {diagnostics()}");
                }
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value or the timeout passes.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, Func<string> diagnostics)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"condition not met after {timeout}: {diagnostics()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>A self-signed ECDSA P-256 certificate for localhost and 127.0.0.1, written as PEM
    /// files (certificate, PKCS#8 key).</summary>
    public static void WriteTestCertificate(string certificatePath, string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>A scratch directory, world-traversable (daemons drop to their own users), removed on dispose.</summary>
    public static string CreateScratch(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    public static void DeleteScratch(string? path)
    {
        try
        {
            if (path is not null && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Chowns a path to a system user (Postfix's virtual and Dovecot's mail processes run as nobody).</summary>
    public static async Task ChownAsync(string owner, string path)
    {
        var (exit, output) = await InteropServerFixture.RunAsync("chown", [owner, path], Path.GetTempPath());
        if (exit != 0)
        {
            throw new InvalidOperationException($"chown {owner} {path}: {output}");
        }
    }
}

/// <summary>A daemon running in the foreground as a child of the test process; its output is
/// kept for failure messages. Dispose sends SIGTERM (the masters stop their own children),
/// then SIGKILL after a bounded wait.</summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static DaemonProcess Start(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Tool.Find(program) ?? program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var daemon = new DaemonProcess(process);
        process.OutputDataReceived += (_, e) => daemon.Append(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return daemon;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await InteropServerFixture.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], Path.GetTempPath());
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }
}