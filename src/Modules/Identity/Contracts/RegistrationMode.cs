namespace Conclave.Identity.Contracts;

/// <summary>Who may create an account once the first (admin) account exists.</summary>
public enum RegistrationMode
{
    /// <summary>Anyone who reaches the site.</summary>
    Open,

    /// <summary>Only with a one-time code from an admin.</summary>
    Invite,

    /// <summary>Nobody; admins create nothing new either (accounts come from configuration or external login of existing users).</summary>
    Closed,
}
