using Conclave.Sessions.Contracts;
using Microsoft.AspNetCore.Components.Authorization;

namespace Conclave.Host.Components.Layout;

internal static class CurrentOwner
{
    public static async Task<string> OwnerIdAsync(this Task<AuthenticationState> state) => (await state).User.OwnerId();
}
