namespace Pochta.Sasl;

/// <summary>Registered SASL mechanism names (IANA "SASL Mechanisms" registry).</summary>
public static class SaslMechanisms
{
    /// <summary>RFC 7677. Offered on every connection: the password never crosses the wire.</summary>
    public const string ScramSha256 = "SCRAM-SHA-256";

    /// <summary>RFC 4616. Plaintext: offered only on secure connections.</summary>
    public const string Plain = "PLAIN";

    /// <summary>draft-murchison-sasl-login. Plaintext: offered only on secure connections.</summary>
    public const string Login = "LOGIN";
}