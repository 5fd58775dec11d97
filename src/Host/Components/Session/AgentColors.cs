using System.Collections.Concurrent;
using System.Globalization;

namespace Conclave.Host.Components.Session;

/// <summary>
/// Agent colours readable in both themes. A team may pick any colour (a pale yellow, a navy), so the
/// colour marks the entry as chosen and the agent's name is written in a shade of it, darkened for
/// the light theme and lightened for the dark one until it has WCAG AA contrast (4.5:1, kept at 5).
/// </summary>
internal static class AgentColors
{
    private const double Target = 5.0;
    private static readonly (double R, double G, double B) LightBackground = (0xf1, 0xf3, 0xf6); // --raised, the lightest worst case
    private static readonly (double R, double G, double B) DarkBackground = (0x1f, 0x23, 0x2c); // --raised in dark

    /// <summary>A colour of its own for an agent a team gave none, derived from its name.</summary>
    public static string Derived(string name)
    {
        var hue = (uint)name.Aggregate(17, (h, c) => h * 31 + c) % 360;
        return Hex(FromHsl(hue, .55, .42));
    }

    private static readonly ConcurrentDictionary<string, string> Styles = new();

    /// <summary>The style of an entry: its colour and the name's ink for each theme. <paramref name="hex"/> is #rrggbb.</summary>
    public static string Style(string hex) => Styles.Count < 10_000 ? Styles.GetOrAdd(hex, StyleOf) : StyleOf(hex);

    private static string StyleOf(string hex)
    {
        var color = Parse(hex);
        return $"--agent-color: {hex}; --agent-ink-light: {Hex(Readable(color, (0, 0, 0), LightBackground))}; " +
               $"--agent-ink-dark: {Hex(Readable(color, (255, 255, 255), DarkBackground))}";
    }

    /// <summary>Mixes the colour towards <paramref name="toward"/> in steps until it stands out from the background.</summary>
    private static (double R, double G, double B) Readable((double R, double G, double B) color, (double R, double G, double B) toward, (double R, double G, double B) background)
    {
        for (var mix = 0.0; mix < 1; mix += .05)
        {
            var candidate = (Mix(color.R, toward.R, mix), Mix(color.G, toward.G, mix), Mix(color.B, toward.B, mix));
            if (Contrast(candidate, background) >= Target)
            {
                return candidate;
            }
        }

        return toward;
    }

    private static double Mix(double from, double to, double amount) => from + (to - from) * amount;

    private static double Contrast((double R, double G, double B) a, (double R, double G, double B) b)
    {
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + .05) / (Math.Min(la, lb) + .05);
    }

    private static double Luminance((double R, double G, double B) c) =>
        .2126 * Linear(c.R) + .7152 * Linear(c.G) + .0722 * Linear(c.B);

    private static double Linear(double channel)
    {
        var s = channel / 255;
        return s <= .03928 ? s / 12.92 : Math.Pow((s + .055) / 1.055, 2.4);
    }

    private static (double R, double G, double B) Parse(string hex) => (
        int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static string Hex((double R, double G, double B) c) =>
        string.Create(CultureInfo.InvariantCulture, $"#{(int)Math.Round(c.R):x2}{(int)Math.Round(c.G):x2}{(int)Math.Round(c.B):x2}");

    private static (double R, double G, double B) FromHsl(double hue, double saturation, double lightness)
    {
        var chroma = (1 - Math.Abs(2 * lightness - 1)) * saturation;
        var x = chroma * (1 - Math.Abs(hue / 60 % 2 - 1));
        var m = lightness - chroma / 2;
        var (r, g, b) = (hue / 60) switch
        {
            < 1 => (chroma, x, 0.0),
            < 2 => (x, chroma, 0.0),
            < 3 => (0.0, chroma, x),
            < 4 => (0.0, x, chroma),
            < 5 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        return ((r + m) * 255, (g + m) * 255, (b + m) * 255);
    }
}
