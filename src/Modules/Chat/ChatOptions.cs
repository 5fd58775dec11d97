using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Conclave.Chat;

/// <summary>Settings of the Slack (and later Discord) bridges, section <c>Conclave:Chat</c>.</summary>
internal sealed class ChatOptions
{
    public const string Section = "Conclave:Chat";

    /// <summary>The Slack Web API base (tests point it at a scripted Slack).</summary>
    [Required]
    public Uri SlackApiUrl { get; set; } = new("https://slack.com/api/");

    /// <summary>The Discord REST API base, version included (tests point it at a scripted Discord).</summary>
    [Required]
    public Uri DiscordApiUrl { get; set; } = new("https://discord.com/api/v10/");

    /// <summary>The shortest time between two edits of one answer while it streams (Slack allows about one a second per channel).</summary>
    public TimeSpan EditInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest text of one posted message; a longer answer is split (Slack's section block holds 3000 characters).</summary>
    [Range(200, 3000)]
    public int MaxMessageLength { get; set; } = 3000;

    /// <summary>How long a one-time account link stays valid.</summary>
    public TimeSpan LinkLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The Host's public address, for the account links the bot sends (e.g. https://conclave.example.com/).</summary>
    [Required]
    public Uri PublicUrl { get; set; } = new("http://localhost:8080/");

    /// <summary>The first wait before reconnecting a dropped connection; it doubles up to 30 s.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far a signed Slack request's timestamp may be from now (Slack's advice: 5 minutes).</summary>
    public TimeSpan SignatureWindow { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class ChatOptionsValidator : IValidateOptions<ChatOptions>
{
    public ValidateOptionsResult Validate(string? name, ChatOptions options)
    {
        var failures = new List<string>();
        if (options.EditInterval < TimeSpan.Zero || options.EditInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{ChatOptions.Section}:EditInterval must be between 0 and 1 minute.");
        }

        if (!options.SlackApiUrl.IsAbsoluteUri || !options.SlackApiUrl.AbsoluteUri.EndsWith('/'))
        {
            failures.Add($"{ChatOptions.Section}:SlackApiUrl must be an absolute URL ending in '/', e.g. https://slack.com/api/.");
        }

        if (!options.DiscordApiUrl.IsAbsoluteUri || !options.DiscordApiUrl.AbsoluteUri.EndsWith('/'))
        {
            failures.Add($"{ChatOptions.Section}:DiscordApiUrl must be an absolute URL ending in '/', e.g. https://discord.com/api/v10/.");
        }

        if (!options.PublicUrl.IsAbsoluteUri || options.PublicUrl.Scheme is not ("http" or "https"))
        {
            failures.Add($"{ChatOptions.Section}:PublicUrl must be the Host's absolute http(s) address.");
        }

        if (options.LinkLifetime <= TimeSpan.Zero || options.ReconnectDelay <= TimeSpan.Zero || options.SignatureWindow <= TimeSpan.Zero)
        {
            failures.Add($"{ChatOptions.Section}: LinkLifetime, ReconnectDelay and SignatureWindow must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
