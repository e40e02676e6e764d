namespace Pochta.Client.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>The server refused the request, or the message, folder or account was not found.</summary>
    public const int Refused = 1;

    /// <summary>Usage error, connection or TLS failure, authentication failure.</summary>
    public const int Error = 2;
}

/// <summary>A failure with a one-line, user-facing message and its exit code.</summary>
internal sealed class ClientException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static ClientException Usage(string message) => new(ExitCodes.Error, message);

    public static ClientException NotFound(string message) => new(ExitCodes.Refused, message);
}