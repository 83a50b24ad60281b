"""What the pages need to know about the platform's codes: every enum value's label in zh-CN and English."""
