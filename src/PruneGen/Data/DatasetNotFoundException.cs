using System;
using System.IO;

namespace PruneGen.Data;

/// <summary>A dataset's files were not found where they were looked for; the message lists where and how to get them.</summary>
public sealed class DatasetNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception with a message that says where the files were looked for and how to get them.</summary>
    public DatasetNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with an inner exception.</summary>
    public DatasetNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
