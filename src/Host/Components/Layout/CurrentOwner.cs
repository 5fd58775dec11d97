using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace Conclave.Host.Components.Layout;

internal static class CurrentOwner
{
    public static async Task<string> OwnerIdAsync(this Task<AuthenticationState> state)
    {
        var user = (await state).User;
        return user.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw new InvalidOperationException("The UI requires a signed-in user.");
    }
}
