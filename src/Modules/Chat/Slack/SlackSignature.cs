using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Conclave.Chat.Slack;

/// <summary>
/// Slack's request signing (v0): HMAC-SHA256 of <c>v0:{X-Slack-Request-Timestamp}:{body}</c> with the
/// signing secret, hex, compared in constant time; a timestamp outside the window is refused (replays).
/// </summary>
internal static class SlackSignature
{
    public static bool IsValid(string signingSecret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan window)
    {
        if (timestamp is null || signature is null || !signature.StartsWith("v0=", StringComparison.Ordinal)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > window.TotalSeconds)
        {
            return false;
        }

        var expected = Sign(signingSecret, timestamp, body);
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }

    /// <summary>The <c>X-Slack-Signature</c> value for a request (also what the scripted Slack of the tests sends).</summary>
    public static string Sign(string signingSecret, string timestamp, ReadOnlySpan<byte> body)
    {
        var basestring = new List<byte>(Encoding.ASCII.GetBytes($"v0:{timestamp}:"));
        basestring.AddRange(body.ToArray());
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), basestring.ToArray());
        return "v0=" + Convert.ToHexStringLower(mac);
    }
}
