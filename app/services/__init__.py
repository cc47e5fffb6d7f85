"""All business rules, pure Python, no Qt. One module (or package) per capability."""
